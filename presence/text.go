package presence

import (
	"fmt"
	"strings"

	"github.com/learnloop/learnloop/bot"
)

// texts are the /q/ pages' words: key → {zh-CN, en}.
var texts = map[string][2]string{
	"title":               {"现场签到", "On-site check-in"},
	"msg.code_invalid":    {"二维码无效。请扫描投影上的签到二维码，或在下方输入房间码。", "This code is not valid. Scan the check-in QR code on the screen, or enter the room code below."},
	"msg.code_expired":    {"二维码已过期（投影上的二维码每隔几秒更新一次，截图或转发的二维码无法签到）。请扫描投影上的最新二维码。", "This code has expired (the code on the screen changes every few seconds; a screenshot or a forwarded code does not work). Scan the current code on the screen."},
	"msg.session_gone":    {"该场次不存在或已取消。", "This class does not exist or was cancelled."},
	"msg.flow_expired":    {"签到已超时，请重新扫描投影上的二维码。未做任何记录。", "The check-in timed out. Scan the code on the screen again. Nothing was recorded."},
	"msg.state_mismatch":  {"身份验证结果与本次签到不符（可能是转发的链接）。请在自己的手机上重新扫码。未做任何记录。", "The sign-in answer does not belong to this check-in (perhaps a forwarded link). Scan the code again on your own phone. Nothing was recorded."},
	"msg.auth_denied":     {"未获得应用授权，无法确认身份。请重新扫码并允许授权。未做任何记录。", "The app did not confirm who you are. Scan again and allow the authorisation. Nothing was recorded."},
	"msg.auth_failed":     {"无法从%s确认你的身份，请稍后重试。未做任何记录。", "%s could not confirm who you are. Please try again. Nothing was recorded."},
	"msg.not_on_roster":   {"你的%s账号不在培训名单中，无法签到。如有疑问请联系班主任。未做任何记录。", "Your %s account is not on any training roster. Ask your class coordinator. Nothing was recorded."},
	"msg.not_enrolled":    {"你不在本场培训的名单中（%s），无法签到。未做任何记录。", "You are not on the roster of this class (%s). Nothing was recorded."},
	"msg.not_open":        {"签到尚未开始，%s 开放。", "Check-in opens at %s."},
	"msg.closed":          {"签到（含补签）已结束。", "Check-in (including make-up) has closed."},
	"msg.cancelled":       {"该场次已取消。", "This class was cancelled."},
	"msg.ticket_used":     {"这次签到已由其他人完成，不能重复使用。请重新扫码。", "This check-in was already used by someone else. Scan again."},
	"msg.location_needed": {"本场签到需要确认你在会场：请允许获取位置后重试。未做任何记录。", "This class checks that you are at the venue: allow location access and try again. Nothing was recorded."},
	"msg.location_vague":  {"定位精度不足（±%.0f 米，需要 %.0f 米以内）。请打开 GPS 或 Wi-Fi 后重试。未做任何记录。", "Your location is too imprecise (±%.0f m; %.0f m or better needed). Turn on GPS or Wi-Fi and try again. Nothing was recorded."},
	"msg.outside":         {"你距离会场约 %.0f 米，超出 %d 米的签到范围。未做任何记录。", "You are about %.0f m from the venue, outside the %d m check-in area. Nothing was recorded."},
	"msg.other_person":    {"此链接属于另一位学员；当前应用身份是 %s。链接不能代他人使用。未做任何记录。", "This link belongs to someone else; this app is signed in as %s. A link cannot be used for another person. Nothing was changed."},
	"msg.identity_needed": {"请在企业微信、飞书或钉钉中重新打开此链接，以确认你的身份。未做任何修改。", "Open this link again in WeCom, Feishu or DingTalk so that it can confirm who you are. Nothing was changed."},
	"msg.error":           {"服务暂时不可用，请稍后重试。未做任何记录。", "The service is temporarily unavailable. Please try again. Nothing was recorded."},
	"msg.no_result":       {"找不到这次签到的结果，请重新扫码。", "No result for this check-in. Scan again."},
	"pick.heading":        {"请在企业微信、飞书或钉钉中扫码", "Scan inside WeCom, Feishu or DingTalk"},
	"pick.text":           {"签到需要由聊天应用确认你的身份（无需登录）。当前页面不在这些应用中打开。如果你正在应用内，请选择：", "Check-in needs your chat app to confirm who you are (no login). This page is not open in one of those apps. If you are in one, choose it:"},
	"room.heading":        {"输入房间码", "Enter the room code"},
	"room.text":           {"扫码失败时，请输入投影上显示的 4 位房间码。", "If scanning fails, enter the 4-digit room code shown on the screen."},
	"room.hello":          {"你好，%s", "Hello, %s"},
	"room.submit":         {"签到", "Check in"},
	"room.wrong":          {"房间码不正确或已更新，请核对投影上的最新房间码。", "Wrong or outdated room code: check the current code on the screen."},
	"room.format":         {"请输入 4 位数字。", "Enter 4 digits."},
	"room.too_many":       {"尝试次数过多，请 10 分钟后再试，或扫描二维码。", "Too many tries. Wait 10 minutes or scan the QR code."},
	"locate.heading":      {"正在确认你在会场…", "Checking that you are at the venue…"},
	"locate.text":         {"本场签到需要获取一次手机位置（仅用于判断是否在会场，精度会一并记录）。", "This class reads your phone's location once (only to check you are at the venue; its accuracy is stored with it)."},
	"locate.button":       {"获取位置并签到", "Share location and check in"},
	"locate.denied":       {"无法获取位置：%s。请在系统设置中允许该应用使用位置后重试。", "Could not get your location: %s. Allow the app to use location in your settings and try again."},
	"locate.noscript":     {"获取位置需要启用 JavaScript。", "Getting your location needs JavaScript."},
	"done.heading":        {"签到成功", "Checked in"},
	"done.already":        {"你已签到", "You are already checked in"},
	"done.upgraded":       {"已改为现场签到", "Now checked in on site"},
	"done.detail":         {"%s · %s · %s", "%s · %s · %s"},
	"kind.on_time":        {"准时", "on time"},
	"kind.late":           {"迟到", "late"},
	"kind.makeup":         {"补签", "make-up"},
	"source.qr":           {"扫码签到", "QR scan"},
	"source.room_code":    {"房间码签到", "room code"},
	"source.card":         {"卡片签到", "card tap"},
	"source.link":         {"链接签到", "link"},
	"source.manual":       {"班主任代签", "by the coordinator"},
	"source.remote":       {"远程签到", "remote"},
	"platform.wecom":      {"企业微信", "WeCom"},
	"platform.feishu":     {"飞书", "Feishu"},
	"platform.dingtalk":   {"钉钉", "DingTalk"},
	"platform.unknown":    {"应用", "app"},
	"lang.switch":         {"English", "中文"},
}

func tx(lang, key string, args ...any) string {
	m, ok := texts[key]
	if !ok {
		return key
	}
	s := m[0]
	if lang == bot.LocaleEN {
		s = m[1]
	}
	if len(args) > 0 && strings.Contains(s, "%") {
		return fmt.Sprintf(s, args...)
	}
	return s
}

func platformName(lang string, p bot.Platform) string {
	if _, ok := texts["platform."+string(p)]; ok {
		return tx(lang, "platform."+string(p))
	}
	return tx(lang, "platform.unknown")
}
