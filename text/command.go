package text

// commandTexts are the default messages of command's field errors, by
// code; the API gives them in English, with the field and the code.
var commandTexts = Texts{
	"command:code.required":    {"必填", "is required"},
	"command:code.bad_format":  {"无法读取", "cannot be read"},
	"command:code.bad_choice":  {"不是可选的值之一", "is not one of the choices"},
	"command:code.unknown":     {"不存在", "does not exist"},
	"command:code.not_allowed": {"此处不允许", "is not allowed here"},
	"command:code.invalid":     {"无效", "is invalid"},
}
