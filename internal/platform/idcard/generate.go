package idcard

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Generate makes a valid identity number for demonstration data and
// benchmarks: the given region code, birth date and sex, a random sequence
// number and the right check character. The number is fictitious only in
// that nobody chose it for a person; it may by chance be someone's real
// number, so generated data must not be published as if it were anonymous.
// Region must be a 6-digit code with a known province prefix; the birth date
// must lie between 1900 and today. A sex other than Male gives a woman.
func Generate(r *rand.Rand, region string, birth time.Time, sex Sex) (ID, error) {
	// The sequence's last digit carries the sex: odd for men, even for women.
	seq := r.IntN(100)*10 + 2*r.IntN(5)
	if sex == Male {
		seq++
	}
	first17 := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), seq)
	check := CheckChar(first17)
	if check == 0 {
		return ID{}, fail(RuleRegion, "地区代码应为 6 位数字", "the region code must be 6 digits")
	}
	return Parse(first17 + string(check))
}
