package simulator

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// slowDecodeTap is how /sim/api/tap read its body before decodeTap.
func slowDecodeTap(body []byte) (TapRequest, error) {
	var req TapRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	return req, err
}

var tapBodies = []string{
	`{"user":"E001","token":"AWkBkNyx-_","action":"checkin","value":""}`,
	` { "user" : "u1" , "token":"t" } `,
	`{}`,
	`{"user":"张三","token":"t","value":"10"}`,
	`{"user":"a\"b","token":"t"}`,
	`{"user":"a\u0041","token":"t"}`,
	`{"User":"a","token":"t"}`,
	`{"user":"a","user":"b","token":"t"}`,
	`{"user":"a","token":"t","extra":1}`,
	`{"user":"a","token":"t"} trailing`,
	`{"user":"a","token":"t"}{"user":"b"}`,
	`{"user":null,"token":"t"}`,
	`{"user":1,"token":"t"}`,
	`{"user":"a",}`,
	`{"user":"a"`,
	`{"user":"\xff","token":"t"}`,
	"{\"user\":\"a\tb\",\"token\":\"t\"}",
	`[]`,
	``,
	`"user"`,
}

func TestDecodeTap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       TapRequest
		fast, err  bool
	}{
		{"the benchmark's and the tests' shape", tapBodies[0], TapRequest{User: "E001", Token: "AWkBkNyx-_", Action: "checkin"}, true, false},
		{"white space", tapBodies[1], TapRequest{User: "u1", Token: "t"}, true, false},
		{"empty object", tapBodies[2], TapRequest{}, true, false},
		{"UTF-8", tapBodies[3], TapRequest{User: "张三", Token: "t", Value: "10"}, true, false},
		{"escape: encoding/json", tapBodies[4], TapRequest{User: `a"b`, Token: "t"}, false, false},
		{"other spelling of a key: encoding/json", tapBodies[6], TapRequest{User: "a", Token: "t"}, false, false},
		{"repeated key: encoding/json, the last wins", tapBodies[7], TapRequest{User: "b", Token: "t"}, false, false},
		{"unknown field refused", tapBodies[8], TapRequest{}, false, true},
		{"trailing data: encoding/json reads the first value", tapBodies[9], TapRequest{User: "a", Token: "t"}, false, false},
		{"number refused", tapBodies[12], TapRequest{}, false, true},
		{"truncated refused", tapBodies[14], TapRequest{}, false, true},
		{"empty body refused", tapBodies[18], TapRequest{}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, fast := decodeFlatTap([]byte(tc.body))
			require.Equal(t, tc.fast, fast)
			got, err := decodeTap([]byte(tc.body))
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// FuzzDecodeTapAgreesWithEncodingJSON: whatever the fast reader accepts,
// encoding/json reads the same, without error.
func FuzzDecodeTapAgreesWithEncodingJSON(f *testing.F) {
	for _, b := range tapBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := decodeFlatTap(body)
		if !ok {
			return
		}
		want, err := slowDecodeTap(body)
		require.NoError(t, err, "%q", body)
		require.Equal(t, want, got, "%q", body)
	})
}
