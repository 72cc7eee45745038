package civic

import (
	"reflect"
	"testing"
)

// The subsidy list as staff paste it: commas of either width or tabs, a
// blank line skipped, a bad head count kept as invalid for the service.
func TestParseRecipients(t *testing.T) {
	got := parseRecipients("王秀英，370613195503031234，2，1230.00\n\n李建国\t370613196007071238\t1\t650\n张三,,x,\n赵四")
	want := []RecipientInput{
		{Name: "王秀英", IDNumber: "370613195503031234", People: 2, Amount: "1230.00"},
		{Name: "李建国", IDNumber: "370613196007071238", People: 1, Amount: "650"},
		{Name: "张三", People: -1},
		{Name: "赵四"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseRecipients:\n got %+v\nwant %+v", got, want)
	}
}

func TestFormTimeValue(t *testing.T) {
	if at, ok := formTimeValue("2026-04-01T09:30"); !ok || at.UTC().Format("2006-01-02T15:04") != "2026-04-01T01:30" {
		t.Errorf("China time: %v %v", at, ok)
	}
	if _, ok := formTimeValue("明天"); ok {
		t.Error("a word taken for a time")
	}
	if at, ok := formTimeValue(""); !ok || !at.IsZero() {
		t.Error("an empty field is no time, for the service to require")
	}
}
