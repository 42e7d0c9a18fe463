package wecom

import (
	"encoding/xml"
	"testing"

	"github.com/stretchr/testify/require"
)

const flatTap = "<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><FromUserName><![CDATA[zhangwei]]></FromUserName><CreateTime>1772413620</CreateTime>" +
	"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[ll:checkin::AQFpAbC-_]]></EventKey>" +
	"<TaskId><![CDATA[ll-1-0-1]]></TaskId><CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[rc-1]]></ResponseCode><AgentID>1000002</AgentID></xml>"

// TestDecodeFlat: the shapes a check-in tap and an envelope have take the
// flat path and read as encoding/xml reads them; every other shape is left
// to encoding/xml.
func TestDecodeFlat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		flat bool // decodeFlat reads it (else: encoding/xml does)
	}{
		{"check-in tap", flatTap, true},
		{"envelope", "<xml><ToUserName><![CDATA[ww]]></ToUserName><Encrypt><![CDATA[AAAA+/=]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>", true},
		{"plain text values, whitespace between elements", "<xml>\n  <MsgType>event</MsgType>\n\t<CreateTime> 12 </CreateTime>\n</xml>\n", true},
		{"unknown flat element, empty values", "<xml><Other>x</Other><Event></Event><AgentID></AgentID></xml>", true},
		{"Chinese text", "<xml><FromUserName><![CDATA[张伟]]></FromUserName></xml>", true},
		{"a vote's nested SelectedItems", "<xml><SelectedItems><SelectedItem><QuestionKey>q</QuestionKey></SelectedItem></SelectedItems></xml>", false},
		{"unknown nested element", "<xml><Other><A>1</A></Other></xml>", false},
		{"entity", "<xml><FromUserName>a&amp;b</FromUserName></xml>", false},
		{"attribute", `<xml><MsgType a="1">event</MsgType></xml>`, false},
		{"self-closing", "<xml><MsgType/></xml>", false},
		{"repeated element", "<xml><MsgType>a</MsgType><MsgType>b</MsgType></xml>", false},
		{"carriage return", "<xml><MsgType>a\r\nb</MsgType></xml>", false},
		{"CDATA beside text", "<xml><MsgType><![CDATA[a]]>b</MsgType></xml>", false},
		{"not a number", "<xml><CreateTime>soon</CreateTime></xml>", false},
		{"declaration", `<?xml version="1.0"?><xml><MsgType>a</MsgType></xml>`, false},
		{"comment", "<xml><!-- c --><MsgType>a</MsgType></xml>", false},
		{"another root", "<msg><MsgType>a</MsgType></msg>", false},
		{"unclosed", "<xml><MsgType>a</MsgType>", false},
		{"mismatched close", "<xml><MsgType>a</Event></xml>", false},
		{"trailing element", "<xml></xml><xml></xml>", false},
		{"control character", "<xml><MsgType>a\x01</MsgType></xml>", false},
		{"invalid UTF-8", "<xml><MsgType>a\xff</MsgType></xml>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev event
			require.Equal(t, tc.flat, decodeFlat([]byte(tc.in), &ev))
			var env envelope
			gotEnv := decodeFlat([]byte(tc.in), &env)
			if tc.flat {
				var want event
				require.NoError(t, xml.Unmarshal([]byte(tc.in), &want))
				require.Equal(t, want, ev)
				require.True(t, gotEnv)
				var wantEnv envelope
				require.NoError(t, xml.Unmarshal([]byte(tc.in), &wantEnv))
				require.Equal(t, wantEnv, env)
			}
			// decode gives encoding/xml's answer whichever way it went.
			var viaDecode, viaXML event
			errDecode, errXML := decode([]byte(tc.in), &viaDecode), xml.Unmarshal([]byte(tc.in), &viaXML)
			require.Equal(t, errXML == nil, errDecode == nil, "decode errs exactly when encoding/xml does")
			if errXML == nil {
				require.Equal(t, viaXML, viaDecode)
			}
		})
	}
	var ev event
	require.True(t, decodeFlat([]byte(flatTap), &ev))
	require.Equal(t, event{XMLName: xml.Name{Local: "xml"}, ToUserName: "wwcorp", FromUserName: "zhangwei", CreateTime: 1772413620, MsgType: "event",
		Event: eventTemplateCard, EventKey: "ll:checkin::AQFpAbC-_", TaskID: "ll-1-0-1", CardType: "button_interaction", ResponseCode: "rc-1", AgentID: 1000002}, ev)
}

// FuzzFlatXMLAgreesWithEncodingXML: whatever decodeFlat accepts,
// encoding/xml accepts too and reads the same.
func FuzzFlatXMLAgreesWithEncodingXML(f *testing.F) {
	f.Add(flatTap)
	f.Add("<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>")
	f.Add("<xml>\n<CreateTime> 7 </CreateTime>\n</xml>")
	f.Add("<xml><A>]]></A></xml>")
	f.Fuzz(func(t *testing.T, in string) {
		var ev, wantEv event
		if decodeFlat([]byte(in), &ev) {
			require.NoError(t, xml.Unmarshal([]byte(in), &wantEv), "%q", in)
			require.Equal(t, wantEv, ev, "%q", in)
		}
		var env, wantEnv envelope
		if decodeFlat([]byte(in), &env) {
			require.NoError(t, xml.Unmarshal([]byte(in), &wantEnv), "%q", in)
			require.Equal(t, wantEnv, env, "%q", in)
		}
	})
}
