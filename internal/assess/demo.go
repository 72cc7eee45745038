package assess

import (
	"context"
	"fmt"
	"time"

	"github.com/linli/linli/internal/platform/errs"
)

// demoDepartments are the demo street's departments (code, name): the
// district bureaus and street offices that usually hand work down to
// communities.
var demoDepartments = [][2]string{
	{"MZJ", "区民政局"}, {"WMB", "区文明办"}, {"WJW", "区卫健委"}, {"CGJ", "区城市管理局"},
	{"YJJ", "区应急管理局"}, {"SWJ", "区商务局"}, {"TJJ", "区统计局"},
	{"JD-MZK", "街道民政科"}, {"JD-PAB", "街道平安办"},
}

// SeedDemo gives the demo street what the assessment pages show: its
// list of departments, this quarter's period with the default weights, an
// open satisfaction survey of the street, an admitted assistance task,
// and two hand-downs to the first community — one citing the admission
// number, one without (which the community can refuse). The caller is the system (app.SeedDemo).
func (s *Service) SeedDemo(ctx context.Context, street, community string) error {
	now := s.now().In(local)
	q := (int(now.Month()) - 1) / 3
	from := time.Date(now.Year(), time.Month(3*q+1), 1, 0, 0, 0, 0, local)
	if _, err := s.CreatePeriod(ctx, PeriodInput{Street: street, Code: fmt.Sprintf("%d-Q%d", now.Year(), q+1),
		From: day(from), To: day(from.AddDate(0, 3, -1))}); err != nil {
		return err
	}
	if _, err := s.CreateSurvey(ctx, SurveyInput{Area: street, Title: "居民满意度测评（本季度）", Per: PerResident, Anonymous: true,
		Opens: day(now.AddDate(0, 0, -7)), Closes: day(now.AddDate(0, 0, 30)), Questions: []QuestionInput{
			{Kind: Rating, Prompt: "您对社区工作总体满意吗？"},
			{Kind: Rating, Prompt: "您对小区环境卫生满意吗？"},
			{Kind: Single, Prompt: "您办事通常去哪里？", Options: []string{"社区服务站", "街道便民服务中心", "网上办理"}},
			{Kind: Multiple, Prompt: "您希望社区增加哪些服务？", Options: []string{"老年助餐", "托育", "法律咨询", "文体活动"}, Optional: true},
			{Kind: Text, Prompt: "其他意见和建议", Optional: true},
		}}); err != nil {
		return err
	}
	for _, d := range demoDepartments {
		// A department the street lists already (code or name) is kept.
		_, err := s.CreateDepartment(ctx, DepartmentInput{Street: street, Code: d[0], Name: d[1]})
		if err != nil && errs.CodeOf(err) != errs.Conflict {
			return err
		}
	}
	task, err := s.Apply(ctx, TaskInput{Street: street, List: Assist, Department: "区民政局", Title: "高龄津贴资格年度核对",
		Content: "每年核对一次辖区 80 周岁以上老人高龄津贴领取资格", LegalBasis: "《老年人权益保障法》第三十三条", Hours: 16, Cadence: "yearly",
		Funding: "按每人 5 元核对经费拨付社区", Staff: "民政所派 1 名工作人员协助"})
	if err != nil {
		return err
	}
	if task, err = s.Decide(ctx, task.ID, Decision{Admit: true, ExpiresOn: day(now.AddDate(1, 0, 0))}); err != nil {
		return err
	}
	for _, in := range []HandDownInput{
		{Community: community, Department: "区民政局", Kind: "ledger", Title: "高龄津贴核对台账", Hours: 16, Number: task.Number},
		{Community: community, Department: "区商务局", Kind: "report", Title: "辖区商户情况统计表（每月）", Hours: 6},
	} {
		if _, err := s.HandDown(ctx, in); err != nil {
			return err
		}
	}
	return nil
}
