package open311

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"time"
)

// The wire shapes. XML is the specification's; JSON is derived from it as
// the spec's conversion says: the root element dropped, every container of
// repeated children an array (also with none or one), empty leaves null.
// Ids and codes are always JSON strings.

// format is the representation a resource was asked for, from its suffix.
type format string

const (
	formatXML  format = "xml"
	formatJSON format = "json"
)

// nstr is an optional text: an empty element in XML, null in JSON.
type nstr string

func (s nstr) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// nnum is an optional number: an empty element in XML, null in JSON.
type nnum struct {
	v  float64
	ok bool
}

func num(p *float64) nnum {
	if p == nil {
		return nnum{}
	}
	return nnum{v: *p, ok: true}
}

func (n nnum) text() string {
	if !n.ok {
		return ""
	}
	return strconv.FormatFloat(n.v, 'f', -1, 64)
}

func (n nnum) MarshalJSON() ([]byte, error) {
	if !n.ok {
		return []byte("null"), nil
	}
	return []byte(n.text()), nil
}

func (n nnum) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(n.text(), start)
}

// w3c is the datetime form of the spec, always with the zone: China time
// for Linli's own stamps.
func w3c(t time.Time) string { return t.In(chinaTime).Format(time.RFC3339) }

func w3cPtr(t *time.Time) nstr {
	if t == nil {
		return ""
	}
	return nstr(w3c(*t))
}

var chinaTime = time.FixedZone("CST", 8*3600)

// --- discovery ---

type discovery struct {
	XMLName    xml.Name   `xml:"discovery" json:"-"`
	Changeset  string     `xml:"changeset" json:"changeset"`
	Contact    string     `xml:"contact" json:"contact"`
	KeyService string     `xml:"key_service" json:"key_service"`
	Endpoints  []endpoint `xml:"endpoints>endpoint" json:"endpoints"`
}

type endpoint struct {
	Specification string   `xml:"specification" json:"specification"`
	URL           string   `xml:"url" json:"url"`
	Changeset     string   `xml:"changeset" json:"changeset"`
	Type          string   `xml:"type" json:"type"`
	Formats       []string `xml:"formats>format" json:"formats"`
}

// --- services ---

type servicesXML struct {
	XMLName  xml.Name  `xml:"services"`
	Services []service `xml:"service"`
}

type service struct {
	Code        string `xml:"service_code" json:"service_code"`
	Name        string `xml:"service_name" json:"service_name"`
	Description string `xml:"description" json:"description"`
	Metadata    bool   `xml:"metadata" json:"metadata"`
	Type        string `xml:"type" json:"type"`
	Keywords    string `xml:"keywords" json:"keywords"`
	Group       string `xml:"group" json:"group"`
}

type serviceDefinition struct {
	XMLName    xml.Name      `xml:"service_definition" json:"-"`
	Code       string        `xml:"service_code" json:"service_code"`
	Attributes attributeList `xml:"attributes" json:"attributes"`
}

// attributeList keeps its container in XML even when empty (FixMyStreet
// warns about a definition without one) and is an array in JSON.
type attributeList struct {
	Items []attribute `xml:"attribute"`
}

func (l attributeList) MarshalJSON() ([]byte, error) {
	if l.Items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(l.Items)
}

type attribute struct {
	Variable            bool      `xml:"variable" json:"variable"`
	Code                string    `xml:"code" json:"code"`
	Datatype            string    `xml:"datatype" json:"datatype"`
	Required            bool      `xml:"required" json:"required"`
	DatatypeDescription nstr      `xml:"datatype_description" json:"datatype_description"`
	Order               int       `xml:"order" json:"order"`
	Description         string    `xml:"description" json:"description"`
	Values              valueList `xml:"values" json:"values"`
}

type valueList struct {
	Items []value `xml:"value"`
}

func (l valueList) MarshalJSON() ([]byte, error) {
	if l.Items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(l.Items)
}

type value struct {
	Key  string `xml:"key" json:"key"`
	Name string `xml:"name" json:"name"`
}

// --- requests ---

type requestsXML struct {
	XMLName  xml.Name `xml:"service_requests"`
	Requests []any    `xml:"request"`
}

// posted is the answer to a POST: the id (realtime) or the token (batch),
// never both.
type posted struct {
	ID        string `xml:"service_request_id,omitempty" json:"service_request_id,omitempty"`
	Token     string `xml:"token,omitempty" json:"token,omitempty"`
	Notice    nstr   `xml:"service_notice" json:"service_notice"`
	AccountID nstr   `xml:"account_id" json:"account_id"`
}

// tokenAnswer is the answer of GET tokens/{token}; the id is left out
// while there is none.
type tokenAnswer struct {
	ID    string `xml:"service_request_id,omitempty" json:"service_request_id,omitempty"`
	Token string `xml:"token" json:"token"`
}

type request struct {
	ID                string `xml:"service_request_id" json:"service_request_id"`
	Status            string `xml:"status" json:"status"`
	StatusNotes       nstr   `xml:"status_notes" json:"status_notes"`
	ServiceName       string `xml:"service_name" json:"service_name"`
	ServiceCode       string `xml:"service_code" json:"service_code"`
	Description       nstr   `xml:"description" json:"description"`
	AgencyResponsible nstr   `xml:"agency_responsible" json:"agency_responsible"`
	ServiceNotice     nstr   `xml:"service_notice" json:"service_notice"`
	Requested         string `xml:"requested_datetime" json:"requested_datetime"`
	Updated           string `xml:"updated_datetime" json:"updated_datetime"`
	Expected          nstr   `xml:"expected_datetime" json:"expected_datetime"`
	Address           nstr   `xml:"address" json:"address"`
	AddressID         nstr   `xml:"address_id" json:"address_id"`
	Zipcode           nstr   `xml:"zipcode" json:"zipcode"`
	Lat               nnum   `xml:"lat" json:"lat"`
	Long              nnum   `xml:"long" json:"long"`
	MediaURL          nstr   `xml:"media_url" json:"media_url"`
	*requestExtensions
}

// requestExtensions are sent with extensions=true (Chicago's and Boston's
// convention): the answers to the attributes, the extended status and
// Linli's own details, and the public history.
type requestExtensions struct {
	Attributes answers  `xml:"attributes" json:"attributes"`
	Extended   extended `xml:"extended_attributes" json:"extended_attributes"`
	Notes      noteList `xml:"notes" json:"notes"`
}

// answers is {CODE: value} in JSON (a list for several values) and
// <attribute><code/><value/>…</attribute> elements in XML.
type answers map[string][]string

func (a answers) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range a {
		if len(v) == 1 {
			out[k] = v[0]
		} else {
			out[k] = v
		}
	}
	return json.Marshal(out)
}

func (a answers) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type item struct {
		Code   string   `xml:"code"`
		Values []string `xml:"value"`
	}
	var items []item
	for _, k := range sortedKeys(a) {
		items = append(items, item{Code: k, Values: a[k]})
	}
	return e.EncodeElement(struct {
		Items []item `xml:"attribute"`
	}{items}, start)
}

type extended struct {
	Status             string   `xml:"status" json:"status"`
	ExternalStatusCode string   `xml:"external_status_code" json:"external_status_code"`
	Channel            string   `xml:"channel" json:"channel"`
	Grid               nstr     `xml:"grid" json:"grid"`
	Duplicate          bool     `xml:"duplicate" json:"duplicate"`
	Parent             nstr     `xml:"parent_service_request_id" json:"parent_service_request_id"`
	Overdue            bool     `xml:"overdue" json:"overdue"`
	MediaURLs          []string `xml:"media_urls>media_url" json:"media_urls"`
}

type noteList struct {
	Items []note `xml:"note"`
}

func (l noteList) MarshalJSON() ([]byte, error) {
	if l.Items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(l.Items)
}

type note struct {
	Datetime    string `xml:"datetime" json:"datetime"`
	Type        string `xml:"type" json:"type"`
	Summary     string `xml:"summary" json:"summary"`
	Description nstr   `xml:"description" json:"description"`
}

// --- servicerequestupdates (mySociety's extension) ---

type updatesXML struct {
	XMLName xml.Name `xml:"service_request_updates"`
	Updates []any    `xml:"request_update"`
}

type update struct {
	UpdateID           string `xml:"update_id" json:"update_id"`
	ID                 string `xml:"service_request_id" json:"service_request_id"`
	Status             string `xml:"status" json:"status"`
	Updated            string `xml:"updated_datetime" json:"updated_datetime"`
	Description        string `xml:"description" json:"description"`
	MediaURL           nstr   `xml:"media_url" json:"media_url"`
	ExternalStatusCode string `xml:"external_status_code" json:"external_status_code"`
}

type postedUpdate struct {
	UpdateID string `xml:"update_id" json:"update_id"`
}

// --- errors ---

type errorsXML struct {
	XMLName xml.Name   `xml:"errors"`
	Errors  []apiError `xml:"error"`
}

type apiError struct {
	Code        int    `xml:"code" json:"code"`
	Description string `xml:"description" json:"description"`
}

// write sends a response in the format asked for: xmlRoot as XML or
// jsonValue as JSON.
func write(w http.ResponseWriter, f format, status int, xmlRoot, jsonValue any) {
	h := w.Header()
	if f == formatJSON {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.Encode(jsonValue)
		return
	}
	h.Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	writeXML(w, xmlRoot)
}

func writeXML(w io.Writer, v any) error {
	if _, err := io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"); err != nil {
		return err
	}
	return xml.NewEncoder(w).Encode(v)
}
