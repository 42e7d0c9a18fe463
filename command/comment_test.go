package command_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// commentFixture adds to the bundle's session a named and an anonymous
// survey, each with one response that answered the free-text question
// "comment" and left "other" empty.
func commentFixture(t *testing.T, b *bundle) (named, anon store.Survey, namedResp, anonResp uint64) {
	t.Helper()
	def := `{"key":"fb","version":1,"kind":"feedback","title":{"zh-CN":"反馈"},"questions":[` +
		`{"key":"score","type":"rating","text":{"zh-CN":"打分"}},` +
		`{"key":"comment","type":"text","text":{"zh-CN":"建议"}},{"key":"other","type":"text","text":{"zh-CN":"其他"}}]}`
	mk := func(anonymous bool, key string) (store.Survey, uint64) {
		sv := store.Survey{SessionID: b.sess.ID, CourseID: b.course.ID, Kind: store.SurveyFeedback, Title: "反馈", Definition: def,
			Anonymous: anonymous, OpensAt: b.now, ClosesAt: b.now.Add(7 * 24 * time.Hour), Status: store.SurveyOpen}
		require.NoError(t, b.db.Create(&sv).Error)
		resp := store.SurveyResponse{SurveyID: sv.ID, RespondentKey: key, Status: store.ResponseComplete, Source: "form", StartedAt: b.now}
		require.NoError(t, b.db.Create(&resp).Error)
		require.NoError(t, b.db.Create(&[]store.SurveyAnswer{
			{ResponseID: resp.ID, SurveyID: sv.ID, QuestionKey: "comment", Text: "多一些练习"},
			{ResponseID: resp.ID, SurveyID: sv.ID, QuestionKey: "other", Text: "  "},
		}).Error)
		return sv, resp.ID
	}
	named, namedResp = mk(false, "e1")
	anon, anonResp = mk(true, "k1")
	return named, anon, namedResp, anonResp
}

// TestTriageCommentRefusesBadInputAndChangesNothing: a comment that is not
// a non-empty free-text answer of the survey, a bad tag, a follow-up call
// on an anonymous survey and a survey of someone else's course are refused
// by the check and by the command alike, and nothing is written.
func TestTriageCommentRefusesBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		ctx := context.Background()
		named, anon, nr, ar := commentFixture(t, b)
		yes := true
		cases := []struct {
			name   string
			a      command.Actor
			survey uint64
			in     command.CommentTriage
			want   error
			field  string
		}{
			{"no response", li, named.ID, command.CommentTriage{QuestionKey: "comment", Tag: ptr(store.TagLongTerm)}, command.ErrNoComment, ""},
			{"response of another survey", li, named.ID, command.CommentTriage{ResponseID: ar, QuestionKey: "comment", Tag: ptr(store.TagLongTerm)}, command.ErrNoComment, ""},
			{"not a text question", li, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: "score", Tag: ptr(store.TagLongTerm)}, command.ErrNoComment, ""},
			{"blank answer", li, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: "other", Tag: ptr(store.TagLongTerm)}, command.ErrNoComment, ""},
			{"bad tag", li, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: "comment", Tag: ptr("later")}, command.ErrInvalid, "tag"},
			{"nothing to set", li, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: "comment"}, command.ErrInvalid, "tag"},
			{"caller's parse error", li, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: "comment",
				Invalid: []command.FieldError{{Field: "follow_up_call", Code: command.CodeBadChoice}}}, command.ErrInvalid, "follow_up_call"},
			{"follow-up on an anonymous survey", li, anon.ID, command.CommentTriage{ResponseID: ar, QuestionKey: "comment", FollowUpCall: &yes}, command.ErrAnonymous, ""},
			{"another coordinator", wang, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: "comment", Tag: ptr(store.TagLongTerm)}, command.ErrForbidden, ""},
			{"department head", head, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: "comment", Tag: ptr(store.TagLongTerm)}, command.ErrForbidden, ""},
			{"no such survey", admin, 4242, command.CommentTriage{ResponseID: nr, QuestionKey: "comment", Tag: ptr(store.TagLongTerm)}, command.ErrNotFound, ""},
		}
		audits := b.count(t, &store.AuditLog{})
		for _, tc := range cases {
			_, err := b.s.CheckCommentTriage(ctx, tc.a, tc.survey, tc.in)
			require.ErrorIs(t, err, tc.want, tc.name)
			_, err = b.s.TriageComment(ctx, tc.a, tc.survey, tc.in)
			require.ErrorIs(t, err, tc.want, tc.name)
			if tc.field != "" {
				require.Equal(t, tc.field, fieldCodesKey(t, err), tc.name)
			}
		}
		require.Zero(t, b.count(t, &store.CommentTag{}))
		require.Equal(t, audits, b.count(t, &store.AuditLog{}))
	})
}

// fieldCodesKey is the one field an error names.
func fieldCodesKey(t *testing.T, err error) string {
	t.Helper()
	fs := fieldCodes(t, err)
	require.Len(t, fs, 1)
	for f := range fs {
		return f
	}
	return ""
}

// TestTriageCommentKeepsTagAndFollowUpApart: the tag and the follow-up flag
// are set one at a time, each keeping the other, and each change is audited
// with what it replaced.
func TestTriageCommentKeepsTagAndFollowUpApart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		ctx := context.Background()
		named, anon, nr, ar := commentFixture(t, b)
		yes, no := true, false
		steps := []struct {
			a          command.Actor
			survey     uint64
			in         command.CommentTriage
			wantTag    string
			wantFollow bool
			action     string
		}{
			{li, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: " comment ", Tag: ptr(store.TagShortTerm)}, store.TagShortTerm, false, "comment.tag"},
			{admin, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: "comment", FollowUpCall: &yes}, store.TagShortTerm, true, "comment.follow_up"},
			{li, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: "comment", Tag: ptr(store.TagNoAction)}, store.TagNoAction, true, "comment.tag"},
			{li, named.ID, command.CommentTriage{ResponseID: nr, QuestionKey: "comment", FollowUpCall: &no}, store.TagNoAction, false, "comment.follow_up"},
			{li, anon.ID, command.CommentTriage{ResponseID: ar, QuestionKey: "comment", Tag: ptr(store.TagLongTerm)}, store.TagLongTerm, false, "comment.tag"},
		}
		for i, st := range steps {
			_, err := b.s.CheckCommentTriage(ctx, st.a, st.survey, st.in)
			require.NoError(t, err, i)
			_, err = b.s.TriageComment(ctx, st.a, st.survey, st.in)
			require.NoError(t, err, i)
			var row store.CommentTag
			require.NoError(t, db.Where("response_id = ? AND question_key = ?", st.in.ResponseID, "comment").Take(&row).Error)
			require.Equal(t, st.wantTag, row.Tag, i)
			require.Equal(t, st.wantFollow, row.FollowUpCall, i)
			require.Equal(t, st.a.Name, row.By, i)
			var log store.AuditLog
			require.NoError(t, db.Order("id DESC").Take(&log).Error)
			require.Equal(t, st.action, log.Action, i)
			require.Equal(t, st.a.Name, log.Actor, i)
			if i > 0 && i < 4 {
				require.Contains(t, log.Detail, `"old_tag"`, i)
			}
		}
		tags, err := b.s.CommentTags(ctx, []uint64{nr, ar})
		require.NoError(t, err)
		require.Len(t, tags, 2)
		tags, err = b.s.CommentTags(ctx, nil)
		require.NoError(t, err)
		require.Empty(t, tags)
	})
}
