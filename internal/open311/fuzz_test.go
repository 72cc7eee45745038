package open311

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzFormAttributes (a stronger FuzzParseForm) feeds arbitrary query strings, Content-Types and bodies to
// parseForm, as a GeoReport v2 client's POST would arrive. It must not
// panic, and what it accepts must hold only what was given: at most
// maxFormValues values; an attribute code only where a key attribute[CODE]
// or attribute[CODE][] was sent, with exactly those keys' values in that
// order; file names without a directory and at most 100 bytes.
//
//	go test -run '^$' -fuzz FuzzFormAttributes -fuzztime 60s ./internal/open311/
func FuzzFormAttributes(f *testing.F) {
	urlencoded := "application/x-www-form-urlencoded"
	f.Add("jurisdiction_id=example.gov&attribute%5BHAZ%5D=q", urlencoded,
		[]byte("service_code=POT&attribute%5BDEPTH%5D=d&attribute%5BHAZ%5D%5B%5D=water&attribute%5BHAZ%5D%5B%5D=cycle&lat=37.46&long=121.44&description=Big+hole%0D%0A"))
	f.Add("", urlencoded, []byte("attribute[]=x&attribute[a][b]=y&attribute[[x]]=z&attribute[c]]=1&attribute[%5Bd]=2"))
	f.Add("api_key=k&service_code=S0201", "", []byte(nil))
	f.Add("a=%zz", urlencoded, []byte("b=1"))
	f.Add("", "multipart/form-data; boundary=XYZ", []byte("--XYZ\r\nContent-Disposition: form-data; name=\"attribute[uprn]\"\r\n\r\n1001\r\n"+
		"--XYZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"C:\\\\photos\\\\12.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0\r\n--XYZ--\r\n"))
	f.Add("", "multipart/form-data", []byte("--x\r\n"))
	f.Add("", "text/plain", []byte("attribute[a]=1"))
	f.Add(strings.Repeat("a=1&", 1001), "", []byte(nil))
	f.Fuzz(func(t *testing.T, query, contentType string, body []byte) {
		var fm form
		var err error
		if body == nil {
			fm, err = parseForm(query, contentType, nil)
		} else {
			fm, err = parseForm(query, contentType, bytes.NewReader(body))
		}
		if err != nil {
			if _, ok := err.(formError); !ok {
				t.Fatalf("parseForm: %T %v is no formError", err, err)
			}
			return
		}
		n := 0
		for _, vs := range fm.values {
			n += len(vs)
		}
		if n > maxFormValues {
			t.Fatalf("accepted %d values, over the limit of %d", n, maxFormValues)
		}
		attrValues := 0
		for k, vs := range fm.values {
			if m := attributeKeyRE.FindStringSubmatch(k); m != nil && m[1] != "" {
				attrValues += len(vs)
			}
		}
		got := 0
		for code, vs := range fm.attrs {
			if code == "" || strings.ContainsAny(code, "[]") {
				t.Fatalf("attribute code %q", code)
			}
			plain, list := fm.values["attribute["+code+"]"], fm.values["attribute["+code+"][]"]
			if plain == nil && list == nil {
				t.Fatalf("attribute %q = %q but no key attribute[%s] was sent; values %v", code, vs, code, fm.values)
			}
			want := append(append([]string{}, plain...), list...)
			if strings.Join(vs, "\x00") != strings.Join(want, "\x00") || len(vs) != len(want) {
				t.Fatalf("attribute %q = %q; the keys sent hold %q", code, vs, want)
			}
			got += len(vs)
		}
		if got != attrValues {
			t.Fatalf("attributes hold %d values; the attribute keys sent %d", got, attrValues)
		}
		if len(fm.files) > maxFiles {
			t.Fatalf("%d files, over %d", len(fm.files), maxFiles)
		}
		for _, file := range fm.files {
			if file.Name == "" || len(file.Name) > 100 || strings.ContainsAny(file.Name, `/\`) || file.ContentType == "" {
				t.Fatalf("file %q of type %q", file.Name, file.ContentType)
			}
		}
	})
}
