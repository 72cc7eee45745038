package services

import (
	"context"
	"fmt"

	"github.com/linli/linli/internal/area"
)

// SeedDemo gives every community the caller sees a small service desk:
// the usual catalog items, an activity room, a canteen that takes places
// with approval and a day-care centre, and one provider for the street.
// It is for the demo street only (app.SeedDemo calls it on an empty
// database).
func (s *Service) SeedDemo(ctx context.Context) error {
	comms, err := s.areas.List(ctx, area.ListQuery{Level: area.Community, Limit: 500})
	if err != nil {
		return err
	}
	for _, c := range comms {
		if err := s.seedCommunity(ctx, c); err != nil {
			return fmt.Errorf("demo services of %s: %w", c.Code, err)
		}
	}
	if len(comms) == 0 {
		return nil
	}
	_, err = s.CreateProvider(ctx, ProviderInput{Area: comms[0].Code, Name: "乐龄居家养老服务中心", Kind: SocialOrg,
		Services: []string{"home_care", "meal_delivery", "companionship"}, Location: &Point{Lon: 121.445, Lat: 37.47}, RadiusM: 3000, Capacity: 40})
	return err
}

// demoItems are catalog items a community commonly offers; 居住证明 is one
// of the few certificates a community may still issue.
var demoItems = []ItemInput{
	{Code: "elder_card", Name: "老年证办理", Eligibility: "本社区60周岁以上居民", MinAge: 60, Unit: "社区服务站", LimitDays: 5, Online: true,
		Materials: []Material{{Code: "id_card", Name: "身份证", Required: true}, {Code: "photo", Name: "一寸照片", Required: true}}},
	{Code: "senior_allowance", Name: "高龄津贴申领", Eligibility: "80周岁以上户籍老人", MinAge: 80, Unit: "街道民政科", LimitDays: 15,
		Materials: []Material{{Code: "id_card", Name: "身份证", Required: true}, {Code: "bank_card", Name: "本人银行卡", Required: true}}},
	{Code: "residence_proof", Name: "居住证明", Eligibility: "在本社区实际居住的居民", Unit: "社区居委会", LimitDays: 3,
		Materials: []Material{{Code: "id_card", Name: "身份证", Required: true}, {Code: "lease", Name: "房产证或租房合同", Required: true}}},
	{Code: "employment", Name: "就业登记", Eligibility: "法定劳动年龄内居民", Unit: "社区劳动保障站", LimitDays: 5, Online: true,
		Materials: []Material{{Code: "id_card", Name: "身份证", Required: true}}},
	{Code: "dibao_help", Name: "低保申请协助", Eligibility: "家庭人均收入低于当地低保标准", Unit: "街道社会救助窗口", LimitDays: 30,
		Materials: []Material{{Code: "id_card", Name: "身份证", Required: true}, {Code: "hukou", Name: "户口簿", Required: true}, {Code: "income", Name: "收入证明", Required: false}}},
	{Code: "disability_card", Name: "残疾人证办理协助", Unit: "区残联", LimitDays: 20,
		Materials: []Material{{Code: "id_card", Name: "身份证", Required: true}, {Code: "photo", Name: "二寸照片", Required: true}, {Code: "medical", Name: "病历资料", Required: false}}},
}

func (s *Service) seedCommunity(ctx context.Context, c area.Area) error {
	for _, it := range demoItems {
		it.Community = c.Code
		if _, err := s.SaveItem(ctx, it); err != nil {
			return err
		}
	}
	var week, meals Hours
	for wd := range week {
		week[wd] = []string{"08:30-11:30", "14:00-17:00"}
		meals[wd] = []string{"11:00-13:00"}
	}
	for _, f := range []FacilityInput{
		{Name: "多功能活动室", Kind: ActivityRoom, Capacity: 40, SlotMinutes: 90, Hours: week, Rules: "活动结束后请恢复桌椅，保持安静整洁。"},
		{Name: "长者食堂", Kind: Canteen, Capacity: 30, Shared: true, SlotMinutes: 60, Hours: meals, NeedsApproval: true, Rules: "请提前一天预约用餐。"},
		{Name: "日间照料中心", Kind: DayCare, Capacity: 20, Shared: true, SlotMinutes: 180, Hours: week, NeedsApproval: true},
	} {
		f.Community = c.Code
		if _, err := s.CreateFacility(ctx, f); err != nil {
			return err
		}
	}
	return nil
}
