package chat

import (
	"strings"
	"unicode"
)

// Commands a text can be.
const (
	cmdCheckin = "checkin"
	cmdCourses = "courses"
	cmdExcuse  = "excuse"
	cmdHelp    = "help"
)

// words maps each normalized command word (zh-CN and English aliases) to
// its command.
var words = map[string]string{
	"签到": cmdCheckin, "打卡": cmdCheckin, "checkin": cmdCheckin, "check in": cmdCheckin, "check-in": cmdCheckin,
	"我的课程": cmdCourses, "我的课": cmdCourses, "课程": cmdCourses, "courses": cmdCourses, "my courses": cmdCourses,
	"classes": cmdCourses, "my classes": cmdCourses, "schedule": cmdCourses,
	"请假": cmdExcuse, "leave": cmdExcuse, "excuse": cmdExcuse, "excuse me": cmdExcuse,
	"帮助": cmdHelp, "help": cmdHelp, "?": cmdHelp, "菜单": cmdHelp, "menu": cmdHelp,
}

// excusePrefixes start a 请假 with its reason ("请假 身体不适", "leave: sick").
var excusePrefixes = []string{"请假", "leave ", "leave:", "excuse "}

// Parse returns the command a text asks for ("" for none) and, for 请假,
// the reason after the command word. It trims, folds full-width letters,
// digits and punctuation to ASCII, lowercases, collapses spaces, and ignores
// a leading "/" and trailing "。.!！".
func Parse(s string) (cmd, arg string) {
	t := Normalize(s)
	t = strings.TrimLeft(t, "/#")
	bare := strings.TrimRight(t, "。.!！~ ")
	if c, ok := words[bare]; ok {
		return c, ""
	}
	for _, p := range excusePrefixes {
		if rest, ok := strings.CutPrefix(t, p); ok {
			return cmdExcuse, strings.TrimSpace(strings.TrimLeft(rest, " :：,，、-—"))
		}
	}
	return "", ""
}

// Normalize folds full-width forms (U+FF01–FF5E) and the ideographic space
// to ASCII, lowercases, trims and collapses runs of spaces to one.
func Normalize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\u3000':
			r = ' '
		case r >= '\uFF01' && r <= '\uFF5E':
			r -= 0xFEE0
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
