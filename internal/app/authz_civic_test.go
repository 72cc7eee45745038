package app

import "github.com/linli/linli/internal/platform/auth"

// civicRules: public disclosure and deliberation. The board is public; the
// staff side needs civic.* over the community (403 with the module's
// message outside it). Residents take part as registered residents of the
// community (civic/topics.go participant): the demo resident is one, of
// community A; staff who moderate the community take part too. Anyone else
// is told, with 404, that their account is not linked to a resident.
var civicRules = map[string]rule{
	"GET /api/v1/civic/communities/{code}/notices": public().on("community"),
	"GET /api/v1/civic/communities/{code}/check":   public().on("community"),
	"GET /api/v1/civic/notices/{id}":               public().on("notice"),
	"GET /api/v1/civic/topics/{id}":                public().on("topic"),
	"GET /api/v1/civic/votes/{id}":                 public().on("vote"),
	"GET /civic/community/{code}":                  public().on("community"),
	"GET /civic/community/{code}/check":            public().on("community"),
	"GET /civic/notices/{id}":                      public().on("notice"),
	"GET /civic/notices/{id}/attachments/{idx}":    public().on("notice").because("a notice without attachments: 404 for everyone"),
	"GET /civic/topics/{id}":                       public().on("topic"),
	"GET /civic/votes/{id}":                        public().on("vote"),

	"POST /api/v1/civic/notices":                           need(auth.CivicPublish).on("community").with(`{"community":"{code}","category":"finances","title":"矩阵公开","body":"收入 1 元"}`),
	"POST /api/v1/civic/notices/{id}/corrections":          need(auth.CivicPublish).on("notice").with(`{"category":"finances","title":"矩阵更正","body":"收入 2 元","reason":"笔误"}`),
	"GET /api/v1/civic/communities/{code}/plan":            need(auth.CivicRead).on("community"),
	"PUT /api/v1/civic/communities/{code}/plan/{category}": need(auth.CivicPublish).on("community").with(`{"cadence":"monthly"}`),
	"GET /api/v1/civic/communities/{code}/due":             need(auth.CivicRead).on("community"),
	"POST /api/v1/civic/topics":                            need(auth.CivicModerate).orResident().on("community").with(`{"community":"{code}","title":"矩阵议题","body":"夜间停车难"}`).refused(403, 404),
	"POST /api/v1/civic/topics/{id}/moderation":            need(auth.CivicModerate).on("topic").with(`{"accept":true}`),
	"POST /api/v1/civic/topics/{id}/support":               need(auth.CivicModerate).orResident().on("topic").refused(403, 404).because("a registered resident of the topic's community, or who moderates it; an unlinked account 404, a resident of another community 403"),
	"POST /api/v1/civic/topics/{id}/comments":              need(auth.CivicModerate).orResident().on("topic").with(`{"body":"同意"}`).refused(403, 404),
	"POST /api/v1/civic/comments/{id}/hide":                need(auth.CivicModerate).on("comment").with(`{"reason":"广告"}`).destructive(),
	"POST /api/v1/civic/topics/{id}/decision":              need(auth.CivicModerate).on("topic").with(`{"by":"meeting","meeting_id":{meeting},"adopted":true,"summary":"同意施划车位"}`),
	"POST /api/v1/civic/topics/{id}/progress":              need(auth.CivicModerate).on("topic").with(`{"note":"已施工"}`),
	"POST /api/v1/civic/topics/{id}/evaluations":           need(auth.CivicModerate).orResident().on("topic").with(`{"rating":5}`).refused(403, 404, 409).because("the topic's state is checked before the participant: 409 for everyone until it is carried out"),
	"POST /api/v1/civic/meetings":                          need(auth.CivicModerate).on("community").with(`{"community":"{code}","kind":"council","title":"矩阵议事会","held_at":"{now}","place":"活动室","agenda":"停车"}`),
	"POST /api/v1/civic/meetings/{id}/minutes":             need(auth.CivicModerate).on("meeting").with(`{"attendance":5,"minutes":"议定"}`),
	"POST /api/v1/civic/votes":                             need(auth.CivicModerate).on("community").with(`{"community":"{code}","title":"矩阵表决","options":["同意","不同意"],"rule":"household","opens_at":"{now}","closes_at":"{later}"}`),
	"POST /api/v1/civic/votes/{id}/ballots":                only(auth.Resident).on("vote").with(`{"option":0}`).refused(403, 404).because("online ballots are the residents' own (civic/votes.go Cast): unlinked accounts 404, a resident of another community 403"),
	"POST /api/v1/civic/votes/{id}/paper":                  need(auth.CivicModerate).on("vote").with(`{"resident_id":{resident},"option":0}`),
	"GET /api/v1/civic/votes/{id}/voters":                  need(auth.CivicRead).on("vote"),
	"POST /api/v1/civic/questions":                         only(auth.Resident).on("notice").with(`{"target_type":"notice","target_id":{id},"body":"收入来源？"}`).refused(403, 404).because("questions are the residents' (supervision.go Ask): staff too are refused as unlinked (404)"),
	"POST /api/v1/civic/questions/{id}/answer":             need(auth.CivicPublish).on("question").with(`{"answer":"来自租金"}`),
	"GET /api/v1/civic/questions/unanswered":               need(auth.CivicRead).lists("question"),
	"POST /api/v1/civic/opinions":                          need(auth.CivicOversee).on("notice").with(`{"target_type":"notice","target_id":{id},"stance":"agree"}`),
	"GET /civic":                                           user().lists("question"),
	"POST /civic/topics":                                   need(auth.CivicModerate).orResident().on("community").with("community={code}&title=表单议题&body=夜间停车难").refused(403, 404),
	"POST /civic/topics/{id}/support":                      need(auth.CivicModerate).orResident().on("topic").refused(403, 404),
	"POST /civic/topics/{id}/comments":                     need(auth.CivicModerate).orResident().on("topic").with("body=同意").refused(403, 404),
	"POST /civic/votes/{id}/ballot":                        only(auth.Resident).on("vote").with("option=0").refused(403, 404),
	"POST /civic/questions":                                only(auth.Resident).on("notice").with("target_type=notice&target_id={id}&body=收入来源？").refused(403, 404),

	// Staff pages.
	"GET /civic/staff/notices":                need(auth.CivicPublish).listQuery("?community=370613001002").lists("notice"),
	"POST /civic/staff/notices":               need(auth.CivicPublish).on("community").with("community={code}&category=finances&title=表单公开&body=收入1元"),
	"GET /civic/staff/notices/{id}/correct":   need(auth.CivicPublish).on("notice"),
	"POST /civic/staff/notices/{id}/correct":  need(auth.CivicPublish).on("notice").with("category=finances&title=表单更正&body=收入3元&reason=笔误"),
	"GET /civic/staff/questions":              need(auth.CivicPublish).lists("question"),
	"POST /civic/staff/questions/{id}/answer": need(auth.CivicPublish).on("question").with("answer=来自租金"),
	"GET /civic/staff/plan":                   need(auth.CivicPublish),
	"POST /civic/staff/plan":                  need(auth.CivicPublish).on("community").with("community={code}&category=finances&cadence=monthly"),
	"GET /civic/staff/votes":                  need(auth.CivicModerate).listQuery("?community=370613001002").lists("vote"),
	"POST /civic/staff/votes":                 need(auth.CivicModerate).on("community").with("community={code}&title=表单表决&options=同意\n不同意&rule=household&opens_at={now}&closes_at={later}"),
	"GET /civic/staff/votes/{id}":             need(auth.CivicModerate).on("vote"),
	"POST /civic/staff/votes/{id}/paper":      need(auth.CivicModerate).on("vote").with("resident_id={resident}&option=0"),
	"GET /civic/staff/meetings":               need(auth.CivicModerate).lists("meeting").listQuery("?community=370613001002"),
	"POST /civic/staff/meetings":              need(auth.CivicModerate).on("community").with("community={code}&kind=council&title=表单议事会&held_at={now}&place=活动室&agenda=停车"),
	"POST /civic/staff/meetings/{id}/minutes": need(auth.CivicModerate).on("meeting").with("attendance=5&minutes=议定"),
	"GET /civic/staff/topics/{id}":            need(auth.CivicModerate).on("topic"),
	"POST /civic/staff/topics/{id}/decision":  need(auth.CivicModerate).on("topic").with("by=meeting&meeting_id={meeting}&adopted=1&summary=同意"),
	"POST /civic/staff/topics/{id}/progress":  need(auth.CivicModerate).on("topic").with("note=已施工"),
}
