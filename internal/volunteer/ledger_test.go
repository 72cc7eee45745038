package volunteer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// pointsModel is an independent model of one volunteer's points: lots
// used oldest first, expiring after three years.
type pointsModel struct {
	lots []lot
}

type lot struct {
	left    int
	expires time.Time
}

func (m *pointsModel) balance() int {
	n := 0
	for _, l := range m.lots {
		n += l.left
	}
	return n
}

func (m *pointsModel) earn(n int, now time.Time) {
	m.lots = append(m.lots, lot{left: n, expires: now.AddDate(3, 0, 0)})
}

func (m *pointsModel) expire(now time.Time) {
	for i := range m.lots {
		if !m.lots[i].expires.After(now) {
			m.lots[i].left = 0
		}
	}
}

// spend takes n from the oldest lots; it reports false (and changes
// nothing) when there is not enough.
func (m *pointsModel) spend(n int) bool {
	if n > m.balance() {
		return false
	}
	for i := range m.lots {
		take := min(n, m.lots[i].left)
		m.lots[i].left -= take
		n -= take
	}
	return true
}

// ledgerRows is every ledger row, by table and id, to notice a change to
// a row that was already written.
func ledgerRows(t *testing.T, d *db.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, q := range []string{
		"SELECT 'h' || id, volunteer_id || '/' || kind || '/' || minutes || '/' || reason FROM volunteer_hours",
		"SELECT 'p' || id, volunteer_id || '/' || kind || '/' || points || '/' || reason FROM volunteer_points",
		"SELECT 't' || id, resident_id || '/' || kind || '/' || minutes FROM volunteer_timebank",
	} {
		rows, err := db.All(ctx, d.Q(ctx), func(r db.Scanner) ([2]string, error) {
			var kv [2]string
			return kv, r.Scan(&kv[0], &kv[1])
		}, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range rows {
			out[kv[0]] = kv[1]
		}
	}
	return out
}

// TestLedgersProperty runs random sequences of credits, corrections,
// redemptions and expiries against a model: after every step each
// balance equals the sum of its entries and the model's figure, none is
// negative, refused steps change nothing, and no written row changes.
func TestLedgersProperty(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 9))
		type actor struct {
			ctx     context.Context
			v       Volunteer
			minutes int
			points  pointsModel
		}
		var actors []*actor
		for i := range 3 {
			ctx, v := f.volunteer(t, fmt.Sprintf("志愿者%d", i))
			actors = append(actors, &actor{ctx: ctx, v: v})
		}
		reward, err := f.svc.CreateReward(f.staff, RewardInput{Community: f.community.Code, Name: "香皂", Cost: 15, Stock: 5})
		if err != nil {
			t.Fatal(err)
		}
		stock := 5
		before := ledgerRows(t, d)
		for step := range 80 {
			a := actors[rng.IntN(len(actors))]
			var op string
			switch r := rng.IntN(10); {
			case r < 4:
				op = "credit"
				m := 1 + rng.IntN(120)
				err := d.Write(f.admin, func(ctx context.Context) error {
					if err := f.svc.addHours(ctx, hoursEntry{volunteerID: a.v.ID, kind: "credit", minutes: m, serviceKind: "elder_care"}); err != nil {
						return err
					}
					if m < 6 {
						return nil
					}
					return f.svc.addPoints(ctx, pointsEntry{volunteerID: a.v.ID, kind: "earn", points: m / 6})
				})
				if err != nil {
					t.Fatalf("step %d credit: %v", step, err)
				}
				a.minutes += m
				if m/6 > 0 {
					a.points.earn(m/6, f.now)
				}
			case r < 6:
				op = "hours correction"
				m := rng.IntN(2*maxCorrection+1) - maxCorrection
				err := f.svc.CorrectHours(f.staff, a.v.ID, CorrectionInput{Amount: m, Reason: "补录"})
				switch {
				case m == 0:
					if errs.CodeOf(err) != errs.Invalid {
						t.Fatalf("step %d: zero correction: %v", step, err)
					}
				case a.minutes+m < 0:
					if fieldsOf(err) != "minutes:err.volunteer.hours_negative" {
						t.Fatalf("step %d: correction %d below zero from %d: %v", step, m, a.minutes, err)
					}
				case err != nil:
					t.Fatalf("step %d: correction %d: %v", step, m, err)
				default:
					a.minutes += m
				}
			case r < 7:
				op = "points correction"
				n := rng.IntN(41) - 20
				err := f.svc.CorrectPoints(f.staff, a.v.ID, CorrectionInput{Amount: n, Reason: "更正"})
				if n == 0 {
					if errs.CodeOf(err) != errs.Invalid {
						t.Fatalf("step %d: zero correction: %v", step, err)
					}
					break
				}
				a.points.expire(f.now)
				ok := n > 0 || a.points.spend(-n)
				if n > 0 {
					a.points.earn(n, f.now)
				}
				if ok != (err == nil) {
					t.Fatalf("step %d: points correction %d with model %d: %v", step, n, a.points.balance(), err)
				}
			case r < 9:
				op = "redemption"
				_, err := f.svc.Redeem(a.ctx, reward.ID)
				a.points.expire(f.now)
				switch {
				case stock == 0:
					if fieldsOf(err) != "reward_id:err.volunteer.out_of_stock" {
						t.Fatalf("step %d: out of stock: %v", step, err)
					}
				case a.points.balance() < reward.Cost:
					if fieldsOf(err) != "points:err.volunteer.points_short_for" {
						t.Fatalf("step %d: short of points (%d): %v", step, a.points.balance(), err)
					}
				case err != nil:
					t.Fatalf("step %d: redeem with %d points: %v", step, a.points.balance(), err)
				default:
					a.points.spend(reward.Cost)
					stock--
				}
			default:
				op = "expiry"
				f.now = f.now.AddDate(0, 0, rng.IntN(400))
				if _, err := f.svc.ExpirePoints(context.Background()); err != nil {
					t.Fatalf("step %d: expire: %v", step, err)
				}
				for _, b := range actors {
					b.points.expire(f.now)
				}
			}
			f.balances(t)
			for _, b := range actors {
				v, err := f.svc.Volunteer(f.staff, b.v.ID)
				if err != nil {
					t.Fatal(err)
				}
				if v.Minutes != b.minutes || v.Points != b.points.balance() {
					t.Fatalf("step %d (%s): volunteer %d has %d min, %d points; model %d min, %d points",
						step, op, b.v.ID, v.Minutes, v.Points, b.minutes, b.points.balance())
				}
			}
			after := ledgerRows(t, d)
			for id, row := range before {
				if after[id] != row {
					t.Fatalf("step %d (%s): ledger row %s changed from %q to %q", step, op, id, row, after[id])
				}
			}
			before = after
		}
	})
}

func TestLastItemGoesToOneOfTwoAtOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		reward, err := f.svc.CreateReward(f.staff, RewardInput{Community: f.community.Code, Name: "保温杯", Cost: 20, Stock: 1})
		if err != nil {
			t.Fatal(err)
		}
		var ctxs []context.Context
		for i := range 2 {
			ctx, v := f.volunteer(t, fmt.Sprintf("兑换者%d", i))
			if err := f.svc.CorrectPoints(f.staff, v.ID, CorrectionInput{Amount: 50, Reason: "夜间巡逻"}); err != nil {
				t.Fatal(err)
			}
			ctxs = append(ctxs, ctx)
		}
		start := make(chan struct{})
		results := make(chan error, 2)
		for _, ctx := range ctxs {
			go func() {
				<-start
				_, err := f.svc.Redeem(ctx, reward.ID)
				results <- err
			}()
		}
		close(start)
		var outcomes []string
		for range ctxs {
			err := <-results
			if err == nil {
				outcomes = append(outcomes, "ok")
			} else {
				outcomes = append(outcomes, fieldsOf(err))
			}
		}
		sort.Strings(outcomes)
		if strings.Join(outcomes, ",") != "ok,reward_id:err.volunteer.out_of_stock" {
			t.Fatalf("outcomes: %v", outcomes)
		}
		var stock, spends, redemptions int
		d.Q(f.admin).QueryRowContext(f.admin, "SELECT stock FROM volunteer_rewards WHERE id = $1", reward.ID).Scan(&stock)
		d.Q(f.admin).QueryRowContext(f.admin, "SELECT COUNT(*) FROM volunteer_points WHERE kind = 'spend'").Scan(&spends)
		d.Q(f.admin).QueryRowContext(f.admin, "SELECT COUNT(*) FROM volunteer_redemptions").Scan(&redemptions)
		if stock != 0 || spends != 1 || redemptions != 1 {
			t.Fatalf("stock %d, %d spends, %d redemptions", stock, spends, redemptions)
		}
		f.balances(t)
	})
}

func TestBadLedgerInputChangesNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx, v := f.volunteer(t, "孙丽")
		reward, _ := f.svc.CreateReward(f.staff, RewardInput{Community: f.community.Code, Name: "大米", Cost: 30, Stock: 3})
		if err := f.svc.CorrectPoints(f.staff, v.ID, CorrectionInput{Amount: 10, Reason: "环境整治"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CorrectHours(f.staff, v.ID, CorrectionInput{Amount: 60, Reason: "补录纸质签到"}); err != nil {
			t.Fatal(err)
		}
		before := ledgerRows(t, d)
		_, err := f.svc.Redeem(ctx, reward.ID)
		if got := fieldsOf(err); got != "points:err.volunteer.points_short_for" {
			t.Fatalf("redeem without points: %q", got)
		}
		for _, c := range []struct {
			in   CorrectionInput
			want string
		}{
			{CorrectionInput{Amount: -61, Reason: "多记"}, "minutes:err.volunteer.hours_negative"},
			{CorrectionInput{Amount: 100000, Reason: "手误"}, "amount:err.volunteer.correction"},
			{CorrectionInput{Amount: 30}, "reason:err.volunteer.reason"},
			{CorrectionInput{}, "amount:err.volunteer.correction reason:err.volunteer.reason"},
		} {
			if got := fieldsOf(f.svc.CorrectHours(f.staff, v.ID, c.in)); got != c.want {
				t.Errorf("correct %+v: %q, want %q", c.in, got, c.want)
			}
		}
		if err := f.svc.CorrectHours(ctx, v.ID, CorrectionInput{Amount: 600, Reason: "自己加"}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a volunteer corrects their own hours: %v", err)
		}
		if err := f.svc.CorrectHours(f.other, v.ID, CorrectionInput{Amount: 30, Reason: "x"}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("another community corrects: %v", err)
		}
		if after := ledgerRows(t, d); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("refused input changed the ledgers")
		}
		var stock int
		d.Q(f.admin).QueryRowContext(f.admin, "SELECT stock FROM volunteer_rewards WHERE id = $1", reward.ID).Scan(&stock)
		if stock != 3 {
			t.Fatalf("stock %d after a refused redemption", stock)
		}
		f.balances(t)
	})
}

func TestStarsAfterNoticeAndProofVerifies(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.svc.Config.StarHours = []int{1, 2}
		ctx, v := f.volunteer(t, "周敏")
		if _, err := f.svc.IssueProof(ctx, v.ID, ProofInput{}); fieldsOf(err) != "volunteer_id:err.volunteer.no_hours" {
			t.Fatalf("proof without hours: %v", err)
		}
		f.svc.CorrectHours(f.staff, v.ID, CorrectionInput{Amount: 90, Reason: "补录 2026-04 助老服务"})
		if n, a, err := f.svc.AwardStars(f.admin); n != 1 || a != 0 || err != nil {
			t.Fatalf("first run: %d noticed, %d awarded, %v", n, a, err)
		}
		if ns, _ := f.svc.Notices(f.admin, f.community.Code); len(ns) != 1 || ns[0].Name != "周*" || ns[0].Level != 1 {
			t.Fatalf("notices: %+v", ns)
		}
		f.now = f.now.AddDate(0, 0, 8)
		if n, a, err := f.svc.AwardStars(f.admin); n != 0 || a != 1 || err != nil {
			t.Fatalf("after the notice: %d noticed, %d awarded, %v", n, a, err)
		}
		if v, _ = f.svc.Volunteer(ctx, v.ID); v.Stars != 1 {
			t.Fatalf("stars %d", v.Stars)
		}
		p, err := f.svc.IssueProof(ctx, v.ID, ProofInput{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.ProofByNumber(context.Background(), strings.ToLower(p.Number))
		if err != nil || got.Minutes != 90 || got.Issuer != "岱山社区党委" || got.Responsible != "王芳" ||
			got.IDMasked != v.IDNumber || got.VolNumber != v.Number || !strings.Contains(got.Content, "助老服务") {
			t.Fatalf("proof: %+v %v", got, err)
		}
		if _, err := f.svc.ProofByNumber(context.Background(), "VP20260101XXXXXX"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("unknown proof: %v", err)
		}
	})
}

func TestTimeBankGiftsStayInTheHousehold(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.activity(t, func(in *ActivityInput) { in.TimeBank = true })
		ctx, v, g := f.checkedIn(t, x, "陈洁")
		if _, err := f.svc.Credit(f.staff, g.ID, 60); err != nil {
			t.Fatal(err)
		}
		_, stranger, _ := f.resident(t, "路人甲")
		err := f.svc.MoveCoins(f.staff, TimeBankInput{From: v.ResidentID, To: stranger.ID, Minutes: 30, Reason: "赠与"})
		if got := fieldsOf(err); got != "to:err.volunteer.not_family" {
			t.Fatalf("gift outside the household: %q", got)
		}
		if err := f.svc.MoveCoins(f.staff, TimeBankInput{From: v.ResidentID, Minutes: 61, Reason: "上门助浴"}); fieldsOf(err) != "minutes:err.volunteer.coins_short" {
			t.Fatalf("withdraw more than the balance: %v", err)
		}
		if err := f.svc.MoveCoins(ctx, TimeBankInput{From: v.ResidentID, Minutes: 10, Reason: "自己取"}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a volunteer moves their own coins: %v", err)
		}
		if err := f.svc.MoveCoins(f.staff, TimeBankInput{From: v.ResidentID, Minutes: 45, Reason: "上门助浴"}); err != nil {
			t.Fatal(err)
		}
		acc, err := f.svc.TimeBank(ctx, v.ResidentID)
		if err != nil || acc.Minutes != 15 || len(acc.Entries) != 2 {
			t.Fatalf("account: %+v %v", acc, err)
		}
		f.balances(t)
	})
}

func TestRedemptionCodeIsCollectedOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx, v := f.volunteer(t, "钱多")
		reward, _ := f.svc.CreateReward(f.staff, RewardInput{Community: f.community.Code, Name: "毛巾", Cost: 5, Stock: 2})
		f.svc.CorrectPoints(f.staff, v.ID, CorrectionInput{Amount: 5, Reason: "清扫楼道"})
		rd, err := f.svc.Redeem(ctx, reward.ID)
		if err != nil || len(rd.Code) != 10 {
			t.Fatalf("redeem: %+v %v", rd, err)
		}
		if _, err := f.svc.Collect(f.other, rd.Code); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("another community's desk: %v", err)
		}
		if _, err := f.svc.Collect(f.staff, strings.ToLower(rd.Code)); err != nil {
			t.Fatalf("collect: %v", err)
		}
		if _, err := f.svc.Collect(f.staff, rd.Code); fieldsOf(err) != "code:err.volunteer.collected_already" {
			t.Fatalf("second collection: %v", err)
		}
	})
}

func TestDemoSeeds(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// The fixture has a party organisation already: seed the other community.
		if err := f.svc.SeedDemo(f.admin, "370613001002"); err != nil {
			t.Fatal(err)
		}
		if xs, err := f.svc.Calendar(context.Background(), "370613001002", 30); err != nil || len(xs) != 2 {
			t.Fatalf("calendar: %d %v", len(xs), err)
		}
	})
}
