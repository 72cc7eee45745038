package services

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// TestFacilitiesAndBookings runs the booking rules on one fixture per
// engine (each fresh PostgreSQL schema costs seconds of migrations); each
// part uses its own facility, and the part that moves the clock runs last.
func TestFacilitiesAndBookings(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		t.Run("validation", func(t *testing.T) { facilityValidation(t, f) })
		t.Run("rules", func(t *testing.T) { bookingRules(t, f) })
		t.Run("recurring", func(t *testing.T) { recurringAllOrNothing(t, f) })
		t.Run("approval", func(t *testing.T) { approvalAttendanceAndBlocks(t, f) })
	})
}

func facilityValidation(t *testing.T, f *fixture) {
	{
		var h Hours
		h[1] = []string{"09:00-12:00", "11:00-13:00"}
		h[2] = []string{"9-12"}
		_, err := f.svc.CreateFacility(f.staff, FacilityInput{Community: f.comm.Code, Name: "", Kind: "pool", Capacity: 0, Hours: h})
		want := "name:err.services.facility_name kind:err.services.facility_kind capacity:err.services.capacity hours.1:err.services.hours_overlap hours.2:err.services.hours_format"
		if fieldsOf(err) != want {
			t.Fatalf("got %q\nwant %q", fieldsOf(err), want)
		}
		if _, err := f.svc.CreateFacility(f.resident, FacilityInput{Community: f.comm.Code, Name: "x", Kind: ActivityRoom, Capacity: 1, Hours: weekdays9to5()}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("resident creating a facility: %v", err)
		}
		if _, err := f.svc.CreateFacility(f.outsider, FacilityInput{Community: f.comm.Code, Name: "x", Kind: ActivityRoom, Capacity: 1, Hours: weekdays9to5()}); errs.CodeOf(err) == "" {
			t.Fatal("staff of another community created a facility here")
		}
	}
}

func bookingRules(t *testing.T, f *fixture) {
	{
		room := f.facility(t, FacilityInput{})
		cases := []struct {
			name  string
			in    BookingInput
			field string
		}{
			{"in the past", BookingInput{Start: at(0, 8, 0).AddDate(0, 0, -7)}, "start:err.services.outside_hours"},
			{"earlier today", BookingInput{Start: at(-7, 9, 0).AddDate(0, 0, 7)}, "start:err.services.in_past"},
			{"lunch break", BookingInput{Start: at(1, 12, 0)}, "start:err.services.outside_hours"},
			{"weekend", BookingInput{Start: at(5, 10, 0)}, "start:err.services.outside_hours"},
			{"not on a slot", BookingInput{Start: at(1, 10, 30)}, "start:err.services.outside_hours"},
			{"too far", BookingInput{Start: at(120, 10, 0)}, "start:err.services.too_far"},
			{"places of a room", BookingInput{Start: at(1, 10, 0), Places: 3}, "places:err.services.places"},
		}
		for _, c := range cases {
			c.in.Facility = room.ID
			_, err := f.svc.Book(f.resident, c.in)
			if got := fieldsOf(err); got != c.field {
				t.Errorf("%s: got %q, want %q", c.name, got, c.field)
			}
		}
		b, err := f.svc.Book(f.resident, BookingInput{Facility: room.ID, Start: at(1, 10, 0), Purpose: "书法"})
		if err != nil || len(b) != 1 || b[0].State != Confirmed {
			t.Fatalf("book: %v %+v", err, b)
		}
		_, err = f.svc.Book(f.neighbor, BookingInput{Facility: room.ID, Start: at(1, 10, 0)})
		if errs.CodeOf(err) != errs.Conflict || fieldsOf(err) != "start:err.services.slot_taken" {
			t.Fatalf("second booking of a room slot: %v", err)
		}
		// Cancelling frees the slot for the neighbour.
		if _, err := f.svc.MoveBooking(f.neighbor, b[0].ID, ActCancel, ""); errs.CodeOf(err) != errs.NotFound && errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("neighbour cancelled someone else's booking: %v", err)
		}
		if _, err := f.svc.MoveBooking(f.resident, b[0].ID, ActCancel, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Book(f.neighbor, BookingInput{Facility: room.ID, Start: at(1, 10, 0)}); err != nil {
			t.Fatalf("slot not freed: %v", err)
		}
		if _, err := f.svc.MoveBooking(f.resident, b[0].ID, ActCancel, ""); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("cancelling twice: %v", err)
		}
	}
}

func approvalAttendanceAndBlocks(t *testing.T, f *fixture) {
	{
		canteen := f.facility(t, FacilityInput{Name: "长者食堂", Kind: Canteen, Capacity: 3, Shared: true, NeedsApproval: true})
		b, err := f.svc.Book(f.resident, BookingInput{Facility: canteen.ID, Start: at(1, 9, 0), Places: 2})
		if err != nil || b[0].State != Pending {
			t.Fatalf("%v %+v", err, b)
		}
		if _, err := f.svc.Book(f.neighbor, BookingInput{Facility: canteen.ID, Start: at(1, 9, 0), Places: 2}); fieldsOf(err) != "start:err.services.slot_taken" {
			t.Fatalf("over capacity: %v", err)
		}
		if _, err := f.svc.Book(f.neighbor, BookingInput{Facility: canteen.ID, Start: at(1, 9, 0), Places: 1}); err != nil {
			t.Fatalf("last place: %v", err)
		}
		if _, err := f.svc.MoveBooking(f.resident, b[0].ID, ActApprove, ""); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("resident approving: %v", err)
		}
		if _, err := f.svc.MoveBooking(f.staff, b[0].ID, ActRefuse, ""); fieldsOf(err) != "reason:err.services.reason" {
			t.Fatalf("refusal without reason: %v", err)
		}
		if _, err := f.svc.MoveBooking(f.staff, b[0].ID, ActAttend, ""); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("attendance of a pending booking: %v", err)
		}
		got, err := f.svc.MoveBooking(f.staff, b[0].ID, ActApprove, "")
		if err != nil || got.State != Confirmed {
			t.Fatalf("approve: %v %+v", err, got)
		}
		if _, err := f.svc.MoveBooking(f.staff, b[0].ID, ActAttend, ""); fieldsOf(err) != "state:err.services.not_started" {
			t.Fatalf("attendance before the slot: %v", err)
		}
		f.now = at(1, 9, 30)
		if got, err := f.svc.MoveBooking(f.staff, b[0].ID, ActAttend, ""); err != nil || got.State != Attended {
			t.Fatalf("attend: %v", err)
		}
		// Blocking Wednesday cancels what is held on it and refuses new bookings.
		w, err := f.svc.Book(f.resident, BookingInput{Facility: canteen.ID, Start: at(2, 14, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Block(f.staff, canteen.ID, "2026-03-04", ""); fieldsOf(err) != "reason:err.services.reason" {
			t.Fatalf("block without reason: %v", err)
		}
		n, err := f.svc.Block(f.staff, canteen.ID, "2026-03-04", "消防检查")
		if err != nil || n != 1 {
			t.Fatalf("block: %d %v", n, err)
		}
		if got, _ := f.svc.booking(f.admin, w[0].ID); got.State != Cancelled || got.Reason != "消防检查" {
			t.Fatalf("booking on a blocked day: %+v", got)
		}
		if _, err := f.svc.Book(f.resident, BookingInput{Facility: canteen.ID, Start: at(2, 15, 0)}); fieldsOf(err) != "start:err.services.day_blocked" {
			t.Fatalf("booking a blocked day: %v", err)
		}
		cal, err := f.svc.FacilityCalendar(f.resident, canteen.ID, "2026-03-03", 2)
		if err != nil || len(cal.Days) != 2 || !cal.Days[1].Blocked || cal.Days[0].Slots[0].Taken != 3 {
			t.Fatalf("calendar: %v %+v", err, cal.Days)
		}
		// The neighbour sees the resident's booking masked.
		if bk := cal.Days[0].Slots[0].Bookings; len(bk) != 2 || strings.Contains(bk[1].Booker, "community") {
			t.Fatalf("calendar bookings: %+v", bk)
		}
	}
}

func recurringAllOrNothing(t *testing.T, f *fixture) {
	{
		room := f.facility(t, FacilityInput{})
		// Someone already has Tuesday 2026-03-17 at 14:00.
		if _, err := f.svc.Book(f.resident, BookingInput{Facility: room.ID, Start: at(15, 14, 0)}); err != nil {
			t.Fatal(err)
		}
		choir := BookingInput{Facility: room.ID, Start: at(1, 14, 0), Weeks: 4, Group: "夕阳红合唱团"}
		if _, err := f.svc.Book(f.resident, choir); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("resident booking a series: %v", err)
		}
		_, err := f.svc.Book(f.staff, choir)
		if errs.CodeOf(err) != errs.Conflict || !strings.Contains(fmt.Sprint(errs.As(err).Fields[0].Args), "2026-03-17") {
			t.Fatalf("series over a taken week: %v", err)
		}
		// Nothing of the series was kept: Tuesday 03-03 is still free.
		if _, err := f.svc.Book(f.neighbor, BookingInput{Facility: room.ID, Start: at(1, 14, 0)}); err != nil {
			t.Fatalf("a week of the refused series was kept: %v", err)
		}
		choir.Start = at(1, 15, 0)
		bs, err := f.svc.Book(f.staff, choir)
		if err != nil || len(bs) != 4 || bs[3].Day != "2026-03-24" || bs[0].SeriesID == "" || bs[0].SeriesID != bs[3].SeriesID {
			t.Fatalf("series: %v %+v", err, bs)
		}
	}
}

// TestNoDoubleBookingUnderContention sends 200 simultaneous requests for
// one slot of a room: exactly one gets it, 199 are told it is taken. On
// PostgreSQL the requests go through two *db.DB handles on the same
// schema, standing for two nodes.
func TestNoDoubleBookingUnderContention(t *testing.T) {
	t.Parallel()
	for kind, dsn := range dbtest.Engines(t) {
		t.Run(string(kind), func(t *testing.T) {
			d1 := dbtest.Open(t, dsn)
			f := newFixture(t, d1)
			room := f.facility(t, FacilityInput{})
			nodes := []*Service{f.svc}
			if kind == db.Postgres {
				d2 := dbtest.Open(t, dsn)
				// The second node shares nothing in memory with the first.
				other := &Service{db: d2, audit: audit.New(d2, f.svc.now), box: f.svc.box, areas: f.svc.areas, reg: f.svc.reg,
					now: f.svc.now, Calendar: f.svc.Calendar}
				nodes = append(nodes, other)
			}
			const n = 200
			var wg sync.WaitGroup
			results := make([]error, n)
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ctx := f.resident
					if i%2 == 1 {
						ctx = f.neighbor
					}
					_, results[i] = nodes[i%len(nodes)].Book(ctx, BookingInput{Facility: room.ID, Start: at(1, 10, 0)})
				}()
			}
			close(start)
			wg.Wait()
			ok, taken := 0, 0
			for _, err := range results {
				switch {
				case err == nil:
					ok++
				case errs.CodeOf(err) == errs.Conflict && fieldsOf(err) == "start:err.services.slot_taken":
					taken++
				default:
					t.Errorf("unexpected refusal: %v", err)
				}
			}
			var rows, seats int
			d1.Q(context.Background()).QueryRowContext(context.Background(), `SELECT COUNT(*) FROM service_bookings WHERE facility_id = $1`, room.ID).Scan(&rows)
			d1.Q(context.Background()).QueryRowContext(context.Background(), `SELECT taken FROM service_slots WHERE facility_id = $1`, room.ID).Scan(&seats)
			if ok != 1 || taken != n-1 || rows != 1 || seats != 1 {
				t.Fatalf("%d booked, %d refused, %d rows, %d seats taken; want 1, %d, 1, 1", ok, taken, rows, seats, n-1)
			}
		})
	}
}
