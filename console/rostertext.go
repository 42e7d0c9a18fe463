package console

import (
	"regexp"
	"strings"

	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/text"
)

// rosterColumnsZH names the roster columns as coordinators know them.
var rosterColumnsZH = map[string]string{
	"external_id": "工号", "name": "姓名", "department": "部门", "title": "职位", "city": "城市",
	"manager_id": "经理工号", "email": "邮箱", "mobile": "手机", "platform": "平台", "wecom_id": "企业微信ID",
	"feishu_id": "飞书ID", "dingtalk_id": "钉钉ID", "locale": "语言", "department_tree": "部门及下级",
}

// rosterRulesZH translate the roster package's messages (English) for
// zh-CN; a message no rule matches is shown as it is.
var rosterRulesZH = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`^is required$`), "必填"},
	{regexp.MustCompile(`^(".*") may only use letters, digits and _\.@- \(at most 64\)$`), "$1 只能包含字母、数字和 _.@-（最多 64 个字符）"},
	{regexp.MustCompile(`^is longer than (\d+) characters$`), "超过 $1 个字符"},
	{regexp.MustCompile(`^(".*") is not a valid employee id$`), "$1 不是有效的工号"},
	{regexp.MustCompile(`^an employee cannot be their own manager$`), "经理不能是本人"},
	{regexp.MustCompile(`^(".*") is not an e-mail address$`), "$1 不是有效的邮箱地址"},
	{regexp.MustCompile(`^(".*") is not a phone number$`), "$1 不是有效的手机号"},
	{regexp.MustCompile(`^(".*") is not one of simulator, wecom, feishu, dingtalk$`), "$1 不是 simulator、wecom、feishu、dingtalk 之一"},
	{regexp.MustCompile(`^(".*") is not zh-CN or en$`), "$1 不是 zh-CN 或 en"},
	{regexp.MustCompile(`^(".*") already on line (\d+)$`), "$1 与第 $2 行重复"},
	{regexp.MustCompile(`^unknown column \(known: (.*)\)$`), "未知的列（可用的列：$1）"},
	{regexp.MustCompile(`^column appears twice$`), "列重复出现"},
	{regexp.MustCompile(`^required column is missing$`), "缺少必填列"},
	{regexp.MustCompile(`^too many rows \(more than (\d+)\)$`), "行数过多（最多 $1 行）"},
	{regexp.MustCompile(`^file is larger than (\d+) MiB$`), "文件超过 $1 MiB"},
	{regexp.MustCompile(`^line is longer than (\d+) KiB$`), "这一行超过 $1 KiB"},
	{regexp.MustCompile(`^a cell is longer than (\d+) bytes$`), "有单元格超过 $1 字节"},
	{regexp.MustCompile(`^workbook unpacks to more than (\d+) MiB$`), "工作簿解压后超过 $1 MiB"},
	{regexp.MustCompile(`^employee (".*") is also on sessions you do not manage; only an admin may change their (.*)$`), "员工 $1 也在您不负责的场次中；只有管理员可以修改其 $2"},
	{regexp.MustCompile(`^employee (".*") manages people on sessions you do not manage; only an admin may change their (.*)$`), "员工 $1 是您不负责的场次中学员的经理；只有管理员可以修改其 $2"},
	{regexp.MustCompile(`^employee (".*") owns a course you do not manage; only an admin may change their (.*)$`), "员工 $1 是您不负责的课程的负责人；只有管理员可以修改其 $2"},
	{regexp.MustCompile(`^employee (".*") is on none of your sessions; only an admin may change their (.*)$`), "员工 $1 不在您负责的任何场次中；只有管理员可以修改其 $2"},
	{regexp.MustCompile(`^(".*") is already another employee's; only an admin may reassign it$`), "$1 已属于另一名员工；只有管理员可以重新分配"},
	{regexp.MustCompile(`^no data rows below the header$`), "表头下面没有数据行"},
	{regexp.MustCompile(`^file is empty: a header row is required$`), "文件为空：第一行需要是表头"},
	{regexp.MustCompile(`^file is not UTF-8 text \(save the CSV as UTF-8\)$`), "文件不是 UTF-8 编码（请把 CSV 另存为 UTF-8）"},
	{regexp.MustCompile(`^malformed CSV: (.*)$`), "CSV 格式错误：$1"},
	{regexp.MustCompile(`^not a readable XLSX file: (.*)$`), "无法读取的 XLSX 文件：$1"},
	{regexp.MustCompile(`^workbook has no sheet$`), "工作簿里没有工作表"},
	{regexp.MustCompile(`^unknown field$`), "未知的字段"},
	{regexp.MustCompile(`^is the same person \((".*")\) as line (\d+)$`), "与第 $2 行是同一个人（$1）"},
	{regexp.MustCompile(`^(".*") has no active employees in the company directory$`), "通讯录中 $1 没有在职员工"},
	{regexp.MustCompile(`^(".*") is the 工号 of several employees in the directory$`), "通讯录中有多名员工的工号是 $1"},
	{regexp.MustCompile(`^(".*") is the mobile of several employees: give the 工号$`), "手机号 $1 对应多名员工：请填写工号"},
	{regexp.MustCompile(`^(".*") is the e-mail of several employees: give the 工号$`), "邮箱 $1 对应多名员工：请填写工号"},
	{regexp.MustCompile(`^is required: the company directory does not know this person yet$`), "必填：通讯录中还没有这个人"},
	{regexp.MustCompile(`^(".*") is in neither the company directory nor any platform's directory$`), "通讯录和各平台的通讯录中都找不到 $1"},
}

// rosterErrors localizes roster row errors for display.
func rosterErrors(lang text.Locale, rows []roster.RowError) []roster.RowError {
	if lang == text.EN {
		return rows
	}
	out := make([]roster.RowError, len(rows))
	for i, r := range rows {
		if zh, ok := rosterColumnsZH[strings.ToLower(r.Column)]; ok {
			r.Column = zh + "（" + r.Column + "）"
		}
		for _, rule := range rosterRulesZH {
			if rule.re.MatchString(r.Message) {
				r.Message = rule.re.ReplaceAllString(r.Message, rule.repl)
				break
			}
		}
		out[i] = r
	}
	return out
}
