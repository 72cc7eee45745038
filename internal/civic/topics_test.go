package civic

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// A topic goes 提 → 议 → 决 → 办 → 评, each stage recorded on the topic;
// questions, answers and the committee's opinion sit beside it.
func TestTopicFromProposalToEvaluation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		residents, _ := f.household(t, "1960-01-01", "1965-01-01")
		res := residents[0]
		_, err := f.svc.Propose(res, TopicInput{Community: f.community.Code, Title: " ", Body: ""})
		wantCode(t, "empty proposal", err, errs.Invalid, "title:err.civic.required")
		topic, err := f.svc.Propose(res, TopicInput{Community: f.community.Code, Title: "楼道堆物清理", Body: "三号楼楼道堆满杂物。"})
		if err != nil || topic.Stage != Proposed {
			t.Fatalf("propose: %v %+v", err, topic)
		}
		_, err = f.svc.AddComment(res, topic.ID, "先讨论")
		wantCode(t, "comment before acceptance", err, errs.Conflict, "err.civic.not_open")
		if err := f.svc.Moderate(f.staff, topic.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Support(residents[1], topic.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "support twice", f.svc.Support(residents[1], topic.ID), errs.Conflict, "err.civic.already_supported")
		if _, err := f.svc.AddComment(res, topic.ID, `<script>alert("x")</script> 同意`); err != nil {
			t.Fatal(err)
		}
		m, err := f.svc.ScheduleMeeting(f.staff, MeetingInput{Community: f.community.Code, Kind: "council", Title: "3月议事会",
			HeldAt: f.now.Add(24 * time.Hour), Place: "社区活动室", Agenda: "楼道堆物", TopicIDs: []int64{topic.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RecordMinutes(f.staff, m.ID, 23, "一致同意周六集中清理。"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "progress before a decision", f.svc.ReportProgress(f.staff, topic.ID, 50, "x"), errs.Conflict, "err.civic.stage")
		if err := f.svc.Decide(f.staff, topic.ID, DecisionInput{By: "meeting", MeetingID: m.ID, Adopted: true, Summary: "周六清理"}); err != nil {
			t.Fatal(err)
		}
		// The decision must be disclosed within 5 days.
		f.now = f.now.AddDate(0, 0, 6)
		over, _ := f.svc.Overdue(f.staff, f.community.Code, f.now)
		if !hasTopic(over, topic.ID) {
			t.Errorf("undisclosed decision not overdue: %+v", over)
		}
		if _, err := f.svc.Publish(f.staff, NoticeInput{Community: f.community.Code, Category: "decisions", Title: "议事会决定",
			Body: "周六清理楼道。", TopicID: topic.ID}); err != nil {
			t.Fatal(err)
		}
		if over, _ := f.svc.Overdue(f.staff, f.community.Code, f.now); hasTopic(over, topic.ID) {
			t.Errorf("disclosed decision still overdue")
		}
		wantCode(t, "evaluate before completion", f.svc.Evaluate(res, topic.ID, 5, ""), errs.Conflict, "err.civic.not_completed")
		if err := f.svc.ReportProgress(f.staff, topic.ID, 60, "已清理一半"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ReportProgress(f.staff, topic.ID, 100, "清理完毕"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Evaluate(res, topic.ID, 4, "干净多了"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "evaluate twice", f.svc.Evaluate(res, topic.ID, 1, ""), errs.Conflict, "err.civic.already_evaluated")
		wantCode(t, "objection without reasons", f.svc.Opine(f.overseer, "topic", topic.ID, Object, ""), errs.Invalid, "reasons:err.civic.required")
		if err := f.svc.Opine(f.overseer, "topic", topic.ID, Object, "未通知二楼住户"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "staff opining", f.svc.Opine(f.staff, "topic", topic.ID, Agree, ""), errs.Forbidden, "")

		got, err := f.svc.GetTopic(context.Background(), topic.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Stage != Completed || got.Supports != 1 || len(got.Comments) != 1 || len(got.Meetings) != 1 || got.Meetings[0].Attendance != 23 ||
			got.Decision == nil || !got.Decision.Adopted || len(got.Progress) != 2 || got.Ratings != 1 || got.Rating != 4 {
			t.Errorf("topic record: %+v", got)
		}
		if !strings.Contains(got.Comments[0].Body, "<script>") {
			t.Errorf("the comment is stored as typed (escaped when shown): %q", got.Comments[0].Body)
		}
		ops, _ := f.svc.Opinions(context.Background(), "topic", topic.ID)
		if len(ops) != 1 || ops[0].Stance != Object {
			t.Errorf("opinions %+v", ops)
		}
	})
}

func hasTopic(items []DueItem, id int64) bool {
	for _, it := range items {
		if it.TopicID == id && it.Overdue {
			return true
		}
	}
	return false
}

// A burst of comments or proposals is cut off at the limit; nothing over
// it is stored.
func TestSpamBurstsAreRefused(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		residents, _ := f.household(t, "1960-01-01")
		res := residents[0]
		topic, err := f.svc.Propose(f.staff, TopicInput{Community: f.community.Code, Title: "停车", Body: "夜间停车难"})
		if err != nil || topic.Stage != Discussing {
			t.Fatalf("staff topic: %v %+v", err, topic)
		}
		refused := 0
		for i := range 12 {
			_, err := f.svc.AddComment(res, topic.ID, "刷屏"+itoa(int64(i)))
			if errs.CodeOf(err) == errs.TooMany {
				refused++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if refused != 12-f.svc.CommentBurst {
			t.Errorf("%d refused of 12, want %d", refused, 12-f.svc.CommentBurst)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM civic_comments"); n != f.svc.CommentBurst {
			t.Errorf("%d comments stored", n)
		}
		for range 5 {
			f.svc.Propose(res, TopicInput{Community: f.community.Code, Title: "广告", Body: "广告"})
		}
		if n := f.count(t, "SELECT COUNT(*) FROM civic_topics WHERE by_staff = FALSE"); n != f.svc.CommentBurst/2 {
			t.Errorf("%d proposals stored in a burst, want %d", n, f.svc.CommentBurst/2)
		}
		f.now = f.now.Add(f.svc.RateWindow + time.Second)
		if _, err := f.svc.AddComment(res, topic.ID, "过一会儿再说"); err != nil {
			t.Errorf("after the window: %v", err)
		}
	})
}

// Questions get a deadline; unanswered ones past it are counted for the
// scorecard until answered.
func TestUnansweredQuestionsAreCounted(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		residents, _ := f.household(t, "1960-01-01")
		v := f.publish(t, "3月财务", "finances")
		q, err := f.svc.Ask(residents[0], "notice", v.ID, "办公费为何增加？")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Ask(residents[0], "notice", 99999, "?")
		wantCode(t, "unknown target", err, errs.Invalid, "target_id:err.civic.target_unknown")
		count := func(at time.Time) int {
			n, err := f.svc.UnansweredOverdue(f.staff, f.community.Path, at)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(f.now.AddDate(0, 0, 3)); n != 0 {
			t.Errorf("within the deadline: %d", n)
		}
		if n := count(f.now.AddDate(0, 0, 8)); n != 1 {
			t.Errorf("past the deadline: %d, want 1", n)
		}
		wantCode(t, "overseer answering", f.svc.Answer(f.overseer, q.ID, "x"), errs.Forbidden, "")
		if err := f.svc.Answer(f.staff, q.ID, "购置了打印机，见附件。"); err != nil {
			t.Fatal(err)
		}
		if n := count(f.now.AddDate(0, 0, 8)); n != 0 {
			t.Errorf("answered but counted: %d", n)
		}
		qs, _ := f.svc.Questions(context.Background(), "notice", v.ID)
		if len(qs) != 1 || qs[0].Answer == "" || strings.Contains(qs[0].Asker, "居民") && len([]rune(qs[0].Asker)) > 3 {
			t.Errorf("questions %+v", qs)
		}
	})
}
