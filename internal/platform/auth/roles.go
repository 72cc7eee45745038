package auth

import "slices"

// Role is what a person does in Linli. A user holds roles through grants,
// each over an area subtree.
type Role string

const (
	Resident          Role = "resident"           // 居民
	GridWorker        Role = "grid_worker"        // 网格员
	CommunityStaff    Role = "community_staff"    // 社区工作者
	StreetStaff       Role = "street_staff"       // 街道工作人员
	DepartmentHandler Role = "department_handler" // 职能部门处置人员
	Supervisor        Role = "supervisor"         // 监督考核
	Overseer          Role = "overseer"           // 居务监督委员会成员
	Admin             Role = "admin"              // 系统管理员
)

// Roles lists every role, most local first.
var Roles = []Role{Resident, GridWorker, CommunityStaff, StreetStaff, DepartmentHandler, Supervisor, Overseer, Admin}

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool { return slices.Contains(Roles, r) }

// Perm is a permission checked by services. Modules name theirs here so the
// whole matrix reads in one place.
type Perm string

const (
	AreaRead    Perm = "area.read"
	AreaManage  Perm = "area.manage"
	UserManage  Perm = "user.manage"
	AuditRead   Perm = "audit.read"
	MetricsRead Perm = "metrics.read"
	GridAssign  Perm = "grid.assign" // name grid workers and leaders of grids

	CaseRead     Perm = "case.read"     // see cases in the area
	CaseReport   Perm = "case.report"   // file a case for someone (hotline, patrol)
	CaseAccept   Perm = "case.accept"   // 立案 / 不予立案 / merge duplicates
	CaseDispatch Perm = "case.dispatch" // 派遣, extensions, deferral
	CaseHandle   Perm = "case.handle"   // act as a member of a handling unit
	CaseVerify   Perm = "case.verify"   // 核查 on site
	CaseCallback Perm = "case.callback" // 回访

	RegistryRead   Perm = "registry.read"   // see the register (people masked) in the area
	RegistryEdit   Perm = "registry.edit"   // add and change buildings, residents, places, components
	RegistryReveal Perm = "registry.reveal" // see an ID or phone number in clear, with a reason that is audited
	RegistryVisit  Perm = "registry.visit"  // record visits (走访) and patrols (巡查)
	RegistryConfig Perm = "registry.config" // visit frequencies and the list of special groups

	ServiceRead   Perm = "service.read"   // see applications, bookings, needs and matches in the area
	ServiceManage Perm = "service.manage" // keep the catalog, facilities and providers
	ServiceHandle Perm = "service.handle" // handle applications (代办 too), approve bookings, match needs

	CivicRead     Perm = "civic.read"     // see drafts, voter lists (who voted, never how) and unanswered questions
	CivicPublish  Perm = "civic.publish"  // publish and correct disclosures, answer questions
	CivicModerate Perm = "civic.moderate" // moderate topics, hold meetings and votes, enter paper ballots
	CivicOversee  Perm = "civic.oversee"  // record the supervision committee's opinion on an item

	VolunteerRead   Perm = "volunteer.read"   // see organisations, volunteers, activities and ledgers in the area
	VolunteerManage Perm = "volunteer.manage" // verify volunteers, run activities, confirm hours, keep the reward shelf

	AssessRead   Perm = "assess.read"   // see scorecards, survey results and the task registry in the area
	AssessSurvey Perm = "assess.survey" // run resident surveys and enter paper answers
	AssessManage Perm = "assess.manage" // weights, scorecard periods, the certificate whitelist
	TaskApply    Perm = "task.apply"    // a department applies to admit a task, hands admitted tasks down
	TaskReview   Perm = "task.review"   // the street's burden-reduction group admits or refuses tasks
	TaskRefuse   Perm = "task.refuse"   // a community refuses a task handed down without admission
)

// rolePerms is the permission matrix. Each grant gives its role's
// permissions within the grant's area subtree.
var rolePerms = map[Role][]Perm{
	Resident: {AreaRead},
	GridWorker: {AreaRead, CaseRead, CaseReport, CaseVerify, RegistryRead, RegistryEdit, RegistryReveal, RegistryVisit,
		ServiceRead, ServiceHandle, VolunteerRead},
	CommunityStaff: {AreaRead, GridAssign, CaseRead, CaseReport, CaseAccept, CaseDispatch, CaseVerify, CaseCallback, RegistryRead, RegistryEdit, RegistryReveal, RegistryVisit,
		ServiceRead, ServiceManage, ServiceHandle, CivicRead, CivicPublish, CivicModerate, VolunteerRead, VolunteerManage,
		AssessRead, AssessSurvey, TaskRefuse},
	StreetStaff: {AreaRead, GridAssign, CaseRead, CaseReport, CaseAccept, CaseDispatch, CaseVerify, CaseCallback, RegistryRead,
		ServiceRead, ServiceManage, CivicRead, VolunteerRead, AssessRead, AssessSurvey, AssessManage, TaskReview},
	DepartmentHandler: {AreaRead, CaseRead, CaseHandle, ServiceRead, ServiceHandle, TaskApply},
	Supervisor:        {AreaRead, AuditRead, CaseRead, ServiceRead, CivicRead, VolunteerRead, AssessRead, AssessManage},
	Overseer:          {AreaRead, CivicRead, CivicOversee},
	Admin: {AreaRead, AreaManage, UserManage, AuditRead, MetricsRead, GridAssign,
		CaseRead, CaseReport, CaseAccept, CaseDispatch, CaseHandle, CaseVerify, CaseCallback,
		RegistryRead, RegistryEdit, RegistryReveal, RegistryVisit, RegistryConfig,
		ServiceRead, ServiceManage, ServiceHandle, CivicRead, CivicPublish, CivicModerate, CivicOversee, VolunteerRead, VolunteerManage,
		AssessRead, AssessSurvey, AssessManage, TaskApply, TaskReview, TaskRefuse},
}

// Scope limits what an API token may do, on top of its user's grants.
type Scope string

const (
	ScopeRead    Scope = "read"    // GET anything the user may read
	ScopeWrite   Scope = "write"   // change what the user may change
	ScopeAdmin   Scope = "admin"   // accounts and audit
	ScopeMetrics Scope = "metrics" // /metrics for Prometheus
)

// Scopes lists every token scope.
var Scopes = []Scope{ScopeRead, ScopeWrite, ScopeAdmin, ScopeMetrics}

// scopeOf says which token scope a permission needs.
func scopeOf(p Perm) Scope {
	switch p {
	case UserManage, AuditRead:
		return ScopeAdmin
	case MetricsRead:
		return ScopeMetrics
	}
	if len(p) > 5 && p[len(p)-5:] == ".read" {
		return ScopeRead
	}
	return ScopeWrite
}
