package workcal

import (
	"fmt"
	"sync"
)

// Default returns the shipped configuration: 08:30–12:00 and 13:30–17:30,
// Monday to Friday, the official holidays of 2026 and provisional ones for
// 2027. Each call returns a new value, free to edit.
func Default() Config {
	return Config{
		Periods:  []Period{{"08:30", "12:00"}, {"13:30", "17:30"}},
		Workweek: []string{"mon", "tue", "wed", "thu", "fri"},
		Years:    []Year{year2026(), year2027()},
	}
}

// DefaultCalendar returns the calendar of Default, built once and shared
// (a Calendar is immutable).
func DefaultCalendar() *Calendar { return defaultCalendar() }

var defaultCalendar = sync.OnceValue(func() *Calendar {
	c, err := New(Default())
	if err != nil {
		// The shipped data is checked by the tests; this is a build defect.
		panic(fmt.Sprintf("workcal: the shipped calendar is invalid: %v", err))
	}
	return c
})

// year2026 is the State Council's notice, 国务院办公厅关于2026年部分节假日安排的
// 通知, dated 2025-11-04 and published on www.gov.cn
// (zhengce/content/202511/content_7047090.htm) and by Xinhua
// (politics.gmw.cn/2025-11/04/content_38391083.htm, read for this data).
// Each entry below repeats the notice's own sentence.
func year2026() Year {
	return Year{
		Year:   2026,
		Source: "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）https://www.gov.cn/zhengce/content/202511/content_7047090.htm",
		Holidays: []Span{
			// 一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。
			{"元旦", "2026-01-01", "2026-01-03"},
			// 二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
			{"春节", "2026-02-15", "2026-02-23"},
			// 三、清明节：4月4日（周六）至6日（周一）放假，共3天。
			{"清明节", "2026-04-04", "2026-04-06"},
			// 四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。
			{"劳动节", "2026-05-01", "2026-05-05"},
			// 五、端午节：6月19日（周五）至21日（周日）放假，共3天。
			{"端午节", "2026-06-19", "2026-06-21"},
			// 六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
			{"中秋节", "2026-09-25", "2026-09-27"},
			// 七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。
			{"国庆节", "2026-10-01", "2026-10-07"},
		},
		MakeupDays: []Span{
			{"元旦", "2026-01-04", ""},  // 1月4日（周日）上班。
			{"春节", "2026-02-14", ""},  // 2月14日（周六）……上班。
			{"春节", "2026-02-28", ""},  // ……2月28日（周六）上班。
			{"劳动节", "2026-05-09", ""}, // 5月9日（周六）上班。
			{"国庆节", "2026-09-20", ""}, // 9月20日（周日）……上班。
			{"国庆节", "2026-10-10", ""}, // ……10月10日（周六）上班。
		},
	}
}

// year2027 is provisional: the notice for 2027 had not been found when this
// was written (2026-11-26; the 2026 notice came out on 2025-11-04). It is
// built from 《全国年节及纪念日放假办法》 as revised on 2024-11-10
// (www.gov.cn/zhengce/content/202411/content_6986380.htm), article 2:
// 元旦 1 day, 春节 4 days (除夕 and 正月初一–初三), 清明 1, 劳动节 2 (1–2 May),
// 端午 1, 中秋 1, 国庆 3 (1–3 Oct); a statutory day on a Saturday or Sunday
// is made up on the next working day (补假, article 6). National Day is
// given as 1–7 October, the customary week (every notice since 2000 has
// given a break of 7 or 8 days), so that days all but certain to be off do
// not count as working days and raise false overdue alarms. There are no
// make-up working days: they cannot be predicted.
//
// Lunar dates, computed from the new moons (Meeus, Astronomical
// Algorithms, ch. 49) and checked against the 2026 notice, which the same
// computation reproduces: the new moon of 2027-02-06 falls at 23:56 CST,
// so 正月初一 is 2027-02-06 (Saturday) and 除夕 2027-02-05; there is no leap
// month between the winter solstices of 2026 and 2027; 五月初五 (端午) is
// 2027-06-09 and 八月十五 (中秋) 2027-09-15; 清明 (solar longitude 15°) is
// 2027-04-05.
func year2027() Year {
	return Year{
		Year:        2027,
		Provisional: true,
		Source:      "《全国年节及纪念日放假办法》（2024年11月10日修订）第二条 https://www.gov.cn/zhengce/content/202411/content_6986380.htm",
		Note: "暂定：尚未收录国务院办公厅关于2027年部分节假日安排的通知。仅含法定假日（适逢周末的按规定顺延补假），" +
			"国庆节按惯例为10月1日至7日；未含调休上班日。通知发布后请按通知修改本年。" +
			" Provisional: the State Council's 2027 notice is not yet included. Statutory holidays only " +
			"(those on a weekend made up on the next weekdays), National Day as the customary 1–7 October, " +
			"no make-up working days. Replace with the notice once published.",
		Holidays: []Span{
			{"元旦", "2027-01-01", ""},            // Friday
			{"春节", "2027-02-05", "2027-02-10"},  // 除夕 Fri 5, 初一–初三 Sat 6–Mon 8; Sat and Sun made up on Tue 9, Wed 10
			{"清明节", "2027-04-05", ""},           // Monday
			{"劳动节", "2027-05-01", "2027-05-04"}, // Sat 1 and Sun 2, made up on Mon 3, Tue 4
			{"端午节", "2027-06-09", ""},           // Wednesday
			{"中秋节", "2027-09-15", ""},           // Wednesday
			{"国庆节", "2027-10-01", "2027-10-07"}, // Friday to Thursday
		},
		MakeupDays: []Span{},
	}
}
