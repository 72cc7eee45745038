package app

import "github.com/linli/linli/internal/platform/auth"

// servicesRules: the one-stop service desk. Facilities and their calendars
// are for everyone over the community (residents book them); a facility of
// another community is answered 404 (services.go sees: a grant over, or
// inside, its community). Out-of-scope staff get 403 with the module's
// message (auth.Allowed).
var servicesRules = map[string]rule{
	"GET /api/v1/services/facilities":                      need(auth.AreaRead).lists("facility"),
	"POST /api/v1/services/facilities":                     need(auth.ServiceManage).on("community").with(`{"community":"{code}","name":"矩阵活动室","kind":"activity_room","capacity":5,"slot_minutes":60,"hours":[["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"]]}`),
	"GET /api/v1/services/facilities/{id}":                 seen().on("facility"),
	"PUT /api/v1/services/facilities/{id}":                 need(auth.ServiceManage).on("facility").hidesUnseen().with(`{"community":"{code}","name":"矩阵活动室","kind":"activity_room","capacity":5,"slot_minutes":60,"hours":[["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"]]}`),
	"GET /api/v1/services/facilities/{id}/calendar":        seen().on("facility"),
	"POST /api/v1/services/facilities/{id}/blocks":         need(auth.ServiceManage).on("facility").hidesUnseen().with(`{"day":"{day}","reason":"消毒"}`),
	"DELETE /api/v1/services/facilities/{id}/blocks/{day}": need(auth.ServiceManage).on("facility").hidesUnseen().destructive(),
	"GET /api/v1/services/calendar":                        seen().on("community").q("?community={code}"),
	"POST /api/v1/services/bookings":                       seen().on("facility").with(`{"facility":{id},"start":"{slot}"}`),
	"GET /api/v1/services/bookings/mine":                   user().unscoped("the caller's own bookings: the administrator booked B's facility for the fixtures"),
	"POST /api/v1/services/bookings/{id}/{action}":         need(auth.ServiceHandle).on("booking").refused(403, 404).because("a booking not seen is 404; seen, without service.handle, 403").with(`{"reason":"authz"}`),

	"GET /api/v1/services/items":                          need(auth.AreaRead).lists("item"),
	"POST /api/v1/services/items":                         need(auth.ServiceManage).on("community").with(`{"community":"{code}","code":"authz_item","name":"矩阵事项","unit":"社区服务站","limit_days":3,"materials":[{"code":"id_card","name":"身份证","required":true}]}`),
	"POST /api/v1/services/applications":                  need(auth.ServiceHandle).and(auth.RegistryRead).on("resident").refused(403, 404).with(`{"item":{item},"resident_id":{id}}`).because("代办 for a resident of the register: service.handle over the resident's grid (applications.go applicantOf), and registry.read to look them up; an item not seen is 404"),
	"GET /api/v1/services/applications":                   need(auth.ServiceRead).lists("application", "item", "resident"),
	"GET /api/v1/services/applications/{id}":              need(auth.ServiceRead).on("application").hides(auth.ServiceRead),
	"POST /api/v1/services/applications/{id}/{action}":    need(auth.ServiceHandle).on("application").hides(auth.ServiceRead).with(`{"materials":["id_card"],"note":"authz"}`),
	"GET /api/v1/services/applications/{id}/files/{file}": need(auth.ServiceRead).on("application").hides(auth.ServiceRead),
	"GET /api/v1/services/track/{number}":                 public().on("application"),

	"GET /api/v1/services/providers":            need(auth.ServiceRead).lists("provider"),
	"POST /api/v1/services/providers":           need(auth.ServiceManage).on("community").with(`{"area":"{code}","name":"矩阵家政","kind":"business","services":["home_care"],"capacity":3,"location":{"lon":121.43,"lat":37.48},"radius_m":1000}`),
	"GET /api/v1/services/needs":                need(auth.ServiceRead).lists("need", "resident"),
	"POST /api/v1/services/needs":               need(auth.ServiceHandle).orAnyResident().on("resident").with(`{"resident_id":{id},"service":"meal_delivery","location":{"lon":121.43,"lat":37.48}}`).refused(400, 403, 404).because("staff record needs for residents of their grids; a linked resident records their own (resident_id is ignored); an unlinked account gets 404, a resident outside the caller's grids 400 on the field"),
	"GET /api/v1/services/needs/{id}/proposals": need(auth.ServiceRead).on("need").refused(403, 404).because("403 without the permission, 404 outside one's grids"),
	"POST /api/v1/services/needs/{id}/matches":  need(auth.ServiceHandle).on("need").with(`{"provider":{provider}}`).refused(403, 404),
	"POST /api/v1/services/matches/{id}/close":  need(auth.ServiceHandle).on("match").with(`{"done":true,"outcome":"authz"}`).refused(403, 404).destructive(),
	"GET /api/v1/services/gaps":                 need(auth.ServiceRead).on("street").q("?street={code}").refused(400, 403).because("a street the caller may not read is refused on the field: 400, not found or not yours"),

	// Pages.
	"GET /services":                         user().lists("facility", "item", "application"),
	"GET /services/facilities/{id}":         seen().on("facility"),
	"POST /services/facilities/{id}/book":   seen().on("facility").with("start={slot}"),
	"POST /services/bookings/{id}/move":     need(auth.ServiceHandle).on("booking").refused(403, 404).because("a booking not seen is 404; seen, without service.handle, 403").with("action=attend"),
	"GET /services/calendar":                seen().on("community").q("?community={code}"),
	"GET /services/items/{id}/apply":        seen().on("item"),
	"POST /services/items/{id}/apply":       seen().on("item").because("one's own application: anyone who sees the item; a form without files is refused as input"),
	"GET /services/desk":                    need(auth.ServiceRead).lists("application", "item", "resident"),
	"GET /services/applications/{id}":       need(auth.ServiceRead).on("application").hides(auth.ServiceRead),
	"POST /services/applications/{id}/step": need(auth.ServiceHandle).on("application").hides(auth.ServiceRead).with("action=request_materials&materials=id_card&note=authz"),
	"GET /services/track":                   public().on("application").q("?number={number}"),
	"GET /services/gaps":                    need(auth.ServiceRead).on("street").q("?street={code}").refused(400, 403).because("a street the caller may not read is refused on the field: 400, not found or not yours"),
	"GET /services/gaps.xlsx":               need(auth.ServiceRead).on("street").q("?street={code}").refused(400, 403).because("a street the caller may not read is refused on the field: 400, not found or not yours"),
	"GET /services/static/gaps.js":          public(),

	// Staff pages.
	"GET /services/facilities":               need(auth.ServiceManage).lists("facility"),
	"POST /services/facilities":              need(auth.ServiceManage).on("community").with("community={code}&name=表单活动室&kind=activity_room&capacity=5&slot_minutes=60"),
	"GET /services/facilities/{id}/edit":     need(auth.ServiceManage).on("facility").refused(403, 404).because("the facility is looked up first: 404 where it is not seen"),
	"POST /services/facilities/{id}/edit":    need(auth.ServiceManage).on("facility").hidesUnseen().with("community={code}&name=表单活动室&kind=activity_room&capacity=5&slot_minutes=60"),
	"POST /services/facilities/{id}/block":   need(auth.ServiceManage).on("facility").hidesUnseen().with("day={day}&reason=消毒"),
	"POST /services/facilities/{id}/unblock": need(auth.ServiceManage).on("facility").hidesUnseen().with("day={day}").destructive(),
	"GET /services/catalog":                  need(auth.ServiceManage).lists("item"),
	"POST /services/catalog":                 need(auth.ServiceManage).on("community").with("community={code}&code=authz_form&name=表单事项&unit=社区服务站&limit_days=3"),
	"GET /services/catalog/{id}/edit":        need(auth.ServiceManage).on("item").refused(403, 404).because("the item is looked up first: 404 where it is not seen"),
	"POST /services/catalog/{id}/edit":       need(auth.ServiceManage).on("item").refused(403, 404).because("the item is looked up first: 404 where it is not seen").with("community={code}&code=employment&name=就业登记&unit=社区劳动保障站&limit_days=5"),
	"GET /services/providers":                need(auth.ServiceManage).lists("provider"),
	"POST /services/providers":               need(auth.ServiceManage).on("community").with("area={code}&name=表单家政&kind=business&services=home_care&capacity=3&lon=121.43&lat=37.48&radius_m=1000"),
	"GET /services/providers/{id}/edit":      need(auth.ServiceManage).on("provider").refused(403, 404),
	"POST /services/providers/{id}/edit":     need(auth.ServiceManage).on("provider").with("area={code}&name=矩阵家政&kind=business&services=home_care&capacity=3&lon=121.43&lat=37.48&radius_m=1000&active=1").refused(403, 404),
	"GET /services/needs":                    need(auth.ServiceRead).lists("resident"),
	"POST /services/needs":                   need(auth.ServiceHandle).on("resident").with("resident_id={id}&service=meal_delivery&lon=121.43&lat=37.48").refused(400, 403).because("a resident outside the caller's grids is refused on the field: 400"),
	"GET /services/needs/{id}":               need(auth.ServiceRead).on("need").refused(403, 404),
	"POST /services/needs/{id}/match":        need(auth.ServiceHandle).on("need").with("provider={provider}").refused(403, 404),
	"POST /services/matches/{id}/close":      need(auth.ServiceHandle).on("match").with("done=1&outcome=authz").refused(403, 404).destructive(),
}
