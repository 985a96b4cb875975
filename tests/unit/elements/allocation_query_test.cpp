// The allocation query: which elements say they read a per-buffer meta
// (fakesink, unless a handoff may read the bytes), which pass it on (queue,
// identity, capsfilter, valve; tee only what every linked branch reads),
// and that everything else leaves it unanswered, so that producers copy
// into the layout of the caps.

#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_meta.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

struct Answer {
    bool answered = false;
    std::vector<std::string> metas;
};

// The allocation query asked from `appsrc name=src` at the head of
// `downstream`, while paused.
std::optional<Answer> ask(const std::string& downstream) {
    auto p = Pipeline::parse("appsrc name=src caps=video/x-raw,format=I420,width=64,height=48 ! " + downstream);
    EXPECT_TRUE(p) << (p ? "" : p.error().message());
    if (!p || !(*p)->set_state(State::paused)) {
        ADD_FAILURE() << "the pipeline did not pause: " << downstream;
        return std::nullopt;
    }
    Query q = Query::allocation(Caps::parse_static("video/x-raw, format=I420, width=64, height=48"));
    Answer a;
    a.answered = (*p)->get<AppSrc>("src").value()->src_pad().peer_query(q);
    a.metas = q.metas();
    EXPECT_TRUE((*p)->set_state(State::idle));
    return a;
}

bool reads_video_meta(const std::string& downstream) {
    const auto a = ask(downstream);
    return a && a->answered && std::find(a->metas.begin(), a->metas.end(), video_meta_api) != a->metas.end();
}

TEST(AllocationQueryTest, FakesinkReadsAVideoMetaUnlessAHandoffMightReadTheBytes) {
    EXPECT_TRUE(reads_video_meta("fakesink"));
    const auto handoff = ask("fakesink signal-handoffs=true");
    ASSERT_TRUE(handoff);
    EXPECT_TRUE(handoff->answered);
    EXPECT_TRUE(handoff->metas.empty());
}

TEST(AllocationQueryTest, ElementsThatPassBuffersOnUntouchedAskDownstream) {
    EXPECT_TRUE(reads_video_meta("queue ! identity ! capsfilter caps=video/x-raw ! valve ! fakesink"));
    EXPECT_FALSE(reads_video_meta("queue ! identity ! fakesink signal-handoffs=true"));
}

TEST(AllocationQueryTest, AnElementThatReadsTheBytesDoesNotAnswerByDefault) {
    const auto a = ask("filesink location=/dev/null");
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->answered);
    EXPECT_TRUE(a->metas.empty());
    EXPECT_FALSE(reads_video_meta("identity ! filesink location=/dev/null"));
}

TEST(AllocationQueryTest, TeeListsOnlyWhatEveryBranchReads) {
    EXPECT_TRUE(reads_video_meta("tee name=t t. ! queue ! fakesink t. ! fakesink"));
    EXPECT_FALSE(reads_video_meta("tee name=t t. ! queue ! fakesink t. ! filesink location=/dev/null"));
    EXPECT_FALSE(reads_video_meta("tee name=t t. ! fakesink t. ! fakesink signal-handoffs=true"));
}

TEST(AllocationQueryTest, MetasAreListedOnceAndIntersected) {
    Query a = Query::allocation(Caps::any());
    a.add_meta("video-meta");
    a.add_meta("video-meta");
    a.add_meta("other-meta");
    EXPECT_EQ(a.metas(), (std::vector<std::string>{"video-meta", "other-meta"}));
    Query b = Query::allocation(Caps::any());
    b.add_meta("other-meta");
    a.intersect_metas(b);
    EXPECT_EQ(a.metas(), std::vector<std::string>{"other-meta"});
    EXPECT_EQ(to_string(QueryType::allocation), "allocation");
}

} // namespace
} // namespace parallax
