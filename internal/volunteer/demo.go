package volunteer

import (
	"context"
	"time"
)

// SeedDemo fills a community with a demo party organisation, social
// organisations of three of the five kinds (so that the gap report has
// something to show), a team with its brand, two coming activities and a
// reward shelf. ctx must carry a principal who manages the community.
func (s *Service) SeedDemo(ctx context.Context, community string) error {
	for _, o := range []OrgInput{
		{Name: "社区党委", Kind: Party, Status: Registered, Leader: "王芳"},
		{Name: "夕阳红助老服务队", Kind: PublicService, Status: Filed, Leader: "刘秀英"},
		{Name: "和美广场舞队", Kind: CultureSports, Status: Incubating, Leader: "赵敏"},
		{Name: "邻里法律服务站", Kind: LegalRights, Status: Registered, Leader: "孙律师"},
	} {
		o.Community = community
		if _, err := s.CreateOrg(ctx, o); err != nil {
			return err
		}
	}
	if _, err := s.CreateTeam(ctx, TeamInput{Community: community, Name: "红马甲志愿服务队", Brand: "邻里守望"}); err != nil {
		return err
	}
	day := s.now().In(chinaTime).AddDate(0, 0, 3).Format(time.DateOnly)
	for _, a := range []ActivityInput{
		{Title: "助老理发进楼院", Kind: "elder_care", StartsAt: day + "T09:00", EndsAt: day + "T11:00", Slots: 8, TimeBank: true,
			Skills: []string{"理发"}},
		{Title: "反诈防骗政策宣讲", Kind: "policy_briefing", Audience: ForResidents, StartsAt: day + "T15:00", EndsAt: day + "T16:30", Slots: 60},
	} {
		a.Community, a.Place, a.Lon, a.Lat = community, "社区党群服务中心", 121.4265, 37.4825
		if _, err := s.Publish(ctx, a); err != nil {
			return err
		}
	}
	for _, r := range []RewardInput{{Name: "香皂", Cost: 15, Stock: 20}, {Name: "保温杯", Cost: 20, Stock: 10}, {Name: "大米 5 斤", Cost: 40, Stock: 5}} {
		r.Community = community
		if _, err := s.CreateReward(ctx, r); err != nil {
			return err
		}
	}
	return nil
}
