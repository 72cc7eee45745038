package cases_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// Administrators change a time limit; new cases follow it.
func TestEditingCategories(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		cats, _ := f.svc.Categories(system)
		var rubbish cases.Category
		for _, c := range cats {
			if c.Code == "E0101" {
				rubbish = c
			}
		}
		f.report(t, "先报一件") // the node's copy of the categories is loaded now
		rubbish.TimeLimit = "2h"
		if err := f.svc.SaveCategory(system, rubbish); err != nil {
			t.Fatal(err)
		}
		n := f.report(t, "垃圾").Number
		f.act(t, "staff", n, cases.Request{Action: cases.ActAccept})
		c := f.act(t, "staff", n, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})
		if !c.DueAt.Equal(f.now.Add(2 * time.Hour)) {
			t.Fatalf("due %v after the limit became 2h", c.DueAt)
		}
		if err := f.svc.SaveCategory(f.as["staff"], rubbish); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("staff editing categories: %v", err)
		}
		rubbish.TimeLimit = "3 天"
		if err := f.svc.SaveCategory(system, rubbish); errs.As(err).Fields[0].Field != "time_limit" {
			t.Fatalf("an ambiguous limit: %v", err)
		}
		// Switched off here, refused here at once, whatever the node's copy held.
		rubbish.TimeLimit, rubbish.Active = "2h", false
		if err := f.svc.SaveCategory(system, rubbish); err != nil {
			t.Fatal(err)
		}
		p := orb.Point{121.445, 37.465}
		_, err := f.svc.Report(context.Background(), cases.NewCase{Category: "E0101", Description: "又有垃圾", Point: &p})
		if e := errs.As(err); e.Code != errs.Invalid || e.Fields[0].Field != "category" {
			t.Fatalf("a report in a category just switched off: %v", err)
		}
	})
}

// A category file is imported whole or not at all, naming every bad row.
func TestImportingCategories(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		header := "code,parent,kind,name_zh,name_en,time_limit,urgency,public,active,filing_standard,closing_standard\n"
		bad := header + "G01,,event,新大类,New class,,normal,true,true,,\n" +
			"G0101,G01,event,好的,Good,4h,normal,true,true,,\n" +
			"g-1,G01,event,,Bad,forever,soon,true,true,,\n"
		_, err := f.svc.ImportCategories(system, strings.NewReader(bad))
		e := errs.As(err)
		if e.Code != errs.Invalid || len(e.Fields) < 4 || !strings.HasPrefix(e.Fields[0].Field, "row 4") {
			t.Fatalf("bad rows: %+v", err)
		}
		if cats, _ := f.svc.Categories(system); containsCode(cats, "G01") {
			t.Fatal("a failed import left a category behind")
		}
		good := header + "G01,,event,新大类,New class,,normal,true,true,,\nG0101,G01,event,好的,Good,4h,urgent,true,true,,\n"
		if n, err := f.svc.ImportCategories(system, strings.NewReader("\ufeff"+good)); err != nil || n != 2 {
			t.Fatalf("good file: %d %v", n, err)
		}
		if _, err := f.svc.ImportCategories(system, strings.NewReader("a,b\n1,2\n")); errs.As(err).Key != "err.category.csv_header" {
			t.Fatalf("wrong header: %v", err)
		}
	})
}

func containsCode(cats []cases.Category, code string) bool {
	for _, c := range cats {
		if c.Code == code {
			return true
		}
	}
	return false
}
