package wecom

import (
	"bytes"
	"strconv"
)

// Flat XML. A callback envelope and a check-in tap's decrypted event are one
// <xml> element holding only flat children — <Name><![CDATA[value]]></Name>
// or <Name>value</Name> — and encoding/xml spent about a third of a WeCom
// tap's CPU on the two of them. decodeFlat reads exactly that shape and
// gives up (ok false) on anything else: attributes, nested elements (a vote's
// SelectedItems), entities, carriage returns, comments, processing
// instructions, a repeated known element, a value that is not a number where
// one is expected. Then decode falls back to encoding/xml, so every input
// reads the same either way (FuzzFlatXMLAgreesWithEncodingXML).

// decodeFlat fills v (*envelope or *event) from body when body has the flat
// shape.
func decodeFlat(body []byte, v any) bool {
	switch v := v.(type) {
	case *envelope:
		var out envelope
		seen := 0
		ok := scanFlat(body, func(name, value []byte) bool {
			var dst *string
			var bit int
			switch string(name) {
			case "ToUserName":
				dst, bit = &out.ToUserName, 1
			case "Encrypt":
				dst, bit = &out.Encrypt, 2
			case "AgentID":
				dst, bit = &out.AgentID, 4
			default:
				return true
			}
			if seen&bit != 0 {
				return false
			}
			seen |= bit
			*dst = string(value)
			return true
		})
		if ok {
			out.XMLName.Local = "xml"
			*v = out
		}
		return ok
	case *event:
		var out event
		seen := 0
		ok := scanFlat(body, func(name, value []byte) bool {
			var dst *string
			var num *int64
			var bit int
			switch string(name) {
			case "ToUserName":
				dst, bit = &out.ToUserName, 1
			case "FromUserName":
				dst, bit = &out.FromUserName, 2
			case "CreateTime":
				num, bit = &out.CreateTime, 4
			case "MsgType":
				dst, bit = &out.MsgType, 8
			case "Event":
				dst, bit = &out.Event, 16
			case "EventKey":
				dst, bit = &out.EventKey, 32
			case "TaskId":
				dst, bit = &out.TaskID, 64
			case "CardType":
				dst, bit = &out.CardType, 128
			case "ResponseCode":
				dst, bit = &out.ResponseCode, 256
			case "AgentID":
				num, bit = &out.AgentID, 512
			case "SelectedItems":
				return false // nested: encoding/xml reads it
			default:
				return true
			}
			if seen&bit != 0 {
				return false
			}
			seen |= bit
			if dst != nil {
				*dst = string(value)
				return true
			}
			if len(value) == 0 {
				return true
			}
			n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
			*num = n
			return err == nil
		})
		if ok {
			out.XMLName.Local = "xml"
			*v = out
		}
		return ok
	}
	return false
}

// scanFlat walks <xml><A>…</A><B><![CDATA[…]]></B>…</xml> (whitespace
// between elements allowed) and calls f with each child's name and value; it
// returns false on any other shape, or when f does.
func scanFlat(b []byte, f func(name, value []byte) bool) bool {
	const open, closing = "<xml>", "</xml>"
	if !bytes.HasPrefix(b, []byte(open)) {
		return false
	}
	b = b[len(open):]
	for {
		b = trimXMLSpace(b)
		if bytes.HasPrefix(b, []byte(closing)) {
			return len(trimXMLSpace(b[len(closing):])) == 0
		}
		if len(b) < 2 || b[0] != '<' || !nameStart(b[1]) {
			return false
		}
		end := bytes.IndexByte(b, '>')
		if end < 0 {
			return false
		}
		name := b[1:end]
		for _, c := range name {
			if !nameChar(c) {
				return false // attributes, a namespace, a self-closing tag
			}
		}
		b = b[end+1:]
		var value []byte
		if bytes.HasPrefix(b, []byte("<![CDATA[")) {
			b = b[len("<![CDATA["):]
			e := bytes.Index(b, []byte("]]>"))
			if e < 0 {
				return false
			}
			value, b = b[:e], b[e+len("]]>"):]
		} else {
			e := bytes.IndexByte(b, '<')
			if e < 0 {
				return false
			}
			value, b = b[:e], b[e:]
			if bytes.IndexByte(value, '&') >= 0 || bytes.Contains(value, []byte("]]>")) {
				return false // entities are encoding/xml's to resolve
			}
		}
		if bytes.IndexByte(value, '\r') >= 0 || !validText(value) {
			return false
		}
		// The closing tag must follow at once.
		if len(b) < len(name)+3 || b[0] != '<' || b[1] != '/' || !bytes.Equal(b[2:2+len(name)], name) || b[2+len(name)] != '>' {
			return false
		}
		b = b[len(name)+3:]
		if !f(name, value) {
			return false
		}
	}
}

func trimXMLSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

func nameStart(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
}

func nameChar(c byte) bool { return nameStart(c) || c >= '0' && c <= '9' }

// validText reports whether value is text encoding/xml accepts as it is:
// printable ASCII, tabs and newlines, or valid UTF-8 above ASCII (any
// control character sends the input to encoding/xml).
func validText(value []byte) bool {
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c >= 0x80 {
			return validUTF8XML(value[i:])
		}
		if c < 0x20 && c != '\t' && c != '\n' {
			return false
		}
	}
	return true
}

// validUTF8XML checks the non-ASCII tail of a value rune by rune against
// XML's Char production.
func validUTF8XML(b []byte) bool {
	for _, r := range string(b) {
		switch {
		case r == 0xFFFD:
			return false // invalid UTF-8 (or a literal U+FFFD: encoding/xml decides)
		case r < 0x20 && r != '\t' && r != '\n':
			return false
		case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return false
		}
	}
	return true
}
