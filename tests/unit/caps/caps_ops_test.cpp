#include <parallax/caps/caps_ops.hpp>

#include "support/caps_helpers.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parallax {
namespace {

using check::frac;
using check::parsed;

// The only structure of `text`.
Structure structure_of(std::string_view text) {
    const Caps caps = parsed(text);
    EXPECT_EQ(caps.size(), 1U) << text;
    return caps.size() == 1 ? caps.structure(0) : Structure("missing");
}

// The value written `text` in a caps string, e.g. "[ 1, 10 ]" or "{ a, b }".
CapsValue value_of(std::string_view text) {
    const Structure s = structure_of("t/x, v=" + std::string(text));
    const CapsValue* v = s.get("v");
    EXPECT_NE(v, nullptr) << text;
    return v != nullptr ? *v : CapsValue("missing");
}

// The intersection of two values as printed, or "none".
std::string meet(std::string_view a, std::string_view b) {
    const auto r = intersect(value_of(a), value_of(b));
    return r ? r->to_string() : "none";
}

bool subset(std::string_view a, std::string_view b) {
    return is_subset(value_of(a), value_of(b));
}

std::string meet_caps(std::string_view a, std::string_view b) {
    return intersect(parsed(a), parsed(b)).to_string();
}

// --- CapsValue intersection ----------------------------------------------------

TEST(CapsOpsTest, EqualFixedValuesIntersectToThemselves) {
    EXPECT_EQ(meet("5", "5"), "(int)5");
    EXPECT_EQ(meet("1.5", "1.5"), "(double)1.5");
    EXPECT_EQ(meet("true", "true"), "(boolean)true");
    EXPECT_EQ(meet("I420", "I420"), "(string)I420");
    EXPECT_EQ(meet("30/1", "60/2"), "(fraction)30/1");
}

TEST(CapsOpsTest, UnequalFixedValuesDoNotIntersect) {
    EXPECT_EQ(meet("5", "6"), "none");
    EXPECT_EQ(meet("true", "false"), "none");
    EXPECT_EQ(meet("I420", "NV12"), "none");
    EXPECT_EQ(meet("30/1", "25/1"), "none");
}

TEST(CapsOpsTest, DifferentTypesDoNotIntersect) {
    EXPECT_EQ(meet("(int)1", "(double)1"), "none");
    EXPECT_EQ(meet("(int)1", "(double)[ 0, 2 ]"), "none");
    EXPECT_EQ(meet("(int)[ 0, 5 ]", "(double)[ 0, 5 ]"), "none");
    EXPECT_EQ(meet("1", "\"1\""), "none");
    EXPECT_EQ(meet("(fraction)[ 0/1, 30/1 ]", "[ 0, 30 ]"), "none");
    EXPECT_EQ(meet("{ 1, 2 }", "{ a, b }"), "none");
}

TEST(CapsOpsTest, AValueInsideARangeIsKept) {
    EXPECT_EQ(meet("5", "[ 1, 10 ]"), "(int)5");
    EXPECT_EQ(meet("[ 1, 10 ]", "1"), "(int)1");
    EXPECT_EQ(meet("[ 1, 10 ]", "10"), "(int)10");
    EXPECT_EQ(meet("0.5", "[ 0.25, 1.0 ]"), "(double)0.5");
    EXPECT_EQ(meet("25/1", "[ 0/1, 30/1 ]"), "(fraction)25/1");
}

TEST(CapsOpsTest, AValueOutsideARangeDoesNotIntersect) {
    EXPECT_EQ(meet("11", "[ 1, 10 ]"), "none");
    EXPECT_EQ(meet("0.1", "[ 0.25, 1.0 ]"), "none");
    EXPECT_EQ(meet("60/1", "[ 0/1, 30/1 ]"), "none");
}

TEST(CapsOpsTest, OverlappingRangesIntersectToTheOverlap) {
    EXPECT_EQ(meet("[ 1, 10 ]", "[ 5, 20 ]"), "(int)[ 5, 10 ]");
    EXPECT_EQ(meet("[ 1, 10 ]", "[ 2, 3 ]"), "(int)[ 2, 3 ]");
    EXPECT_EQ(meet("[ 0.5, 2.0 ]", "[ 1.0, 4.0 ]"), "(double)[ 1, 2 ]");
    EXPECT_EQ(meet("[ 0/1, 30/1 ]", "[ 25/2, 60/1 ]"), "(fraction)[ 25/2, 30/1 ]");
}

TEST(CapsOpsTest, RangesTouchingAtOnePointCollapseToThatValue) {
    EXPECT_EQ(meet("[ 1, 5 ]", "[ 5, 10 ]"), "(int)5");
    EXPECT_EQ(meet("[ 0.5, 1.0 ]", "[ 1.0, 2.0 ]"), "(double)1");
    EXPECT_EQ(meet("[ 0/1, 30/1 ]", "[ 30/1, 60/1 ]"), "(fraction)30/1");
}

TEST(CapsOpsTest, DisjointRangesDoNotIntersect) {
    EXPECT_EQ(meet("[ 1, 4 ]", "[ 5, 10 ]"), "none");
    EXPECT_EQ(meet("[ 0.5, 0.75 ]", "[ 1.0, 2.0 ]"), "none");
    EXPECT_EQ(meet("[ 0/1, 15/1 ]", "[ 30/1, 60/1 ]"), "none");
}

TEST(CapsOpsTest, AListKeepsTheItemsThatIntersect) {
    EXPECT_EQ(meet("{ I420, NV12, YUY2 }", "{ YUY2, NV12 }"), "(string){ NV12, YUY2 }");
    EXPECT_EQ(meet("{ 1, 5, 20 }", "[ 2, 30 ]"), "(int){ 5, 20 }");
    EXPECT_EQ(meet("[ 2, 30 ]", "{ 1, 5, 20 }"), "(int){ 5, 20 }");
    EXPECT_EQ(meet("{ 15/1, 30/1, 60/1 }", "[ 20/1, 60/1 ]"), "(fraction){ 30/1, 60/1 }");
}

TEST(CapsOpsTest, AListWithOneMatchingItemCollapsesToTheItem) {
    EXPECT_EQ(meet("{ I420, NV12 }", "NV12"), "(string)NV12");
    EXPECT_EQ(meet("I420", "{ I420, NV12 }"), "(string)I420");
    EXPECT_EQ(meet("{ 1, 2 }", "{ 2, 3 }"), "(int)2");
    EXPECT_EQ(meet("{ 1, 50 }", "[ 10, 100 ]"), "(int)50");
}

TEST(CapsOpsTest, AListWithoutMatchingItemsDoesNotIntersect) {
    EXPECT_EQ(meet("{ I420, NV12 }", "YUY2"), "none");
    EXPECT_EQ(meet("{ 1, 2 }", "{ 3, 4 }"), "none");
    EXPECT_EQ(meet("{ 1, 2 }", "[ 3, 4 ]"), "none");
}

TEST(CapsOpsTest, BitmasksIntersectToTheirCommonBits) {
    EXPECT_EQ(meet("(bitmask)0x3", "(bitmask)0x3"), "(bitmask)0x0000000000000003");
    EXPECT_EQ(meet("(bitmask)0x3", "(bitmask)0x6"), "(bitmask)0x0000000000000002");
    EXPECT_EQ(meet("(bitmask)0x3", "3"), "none");
}

// --- CapsValue subsets ---------------------------------------------------------

TEST(CapsOpsTest, AFixedValueIsASubsetOfWhatHoldsIt) {
    EXPECT_TRUE(subset("5", "5"));
    EXPECT_TRUE(subset("5", "[ 1, 10 ]"));
    EXPECT_TRUE(subset("NV12", "{ I420, NV12 }"));
    EXPECT_TRUE(subset("25/1", "[ 0/1, 30/1 ]"));
    EXPECT_FALSE(subset("5", "6"));
    EXPECT_FALSE(subset("11", "[ 1, 10 ]"));
    EXPECT_FALSE(subset("(int)5", "(double)[ 1, 10 ]"));
    EXPECT_FALSE(subset("YUY2", "{ I420, NV12 }"));
}

TEST(CapsOpsTest, ARangeIsASubsetOfARangeThatContainsIt) {
    EXPECT_TRUE(subset("[ 2, 5 ]", "[ 1, 10 ]"));
    EXPECT_TRUE(subset("[ 1, 10 ]", "[ 1, 10 ]"));
    EXPECT_TRUE(subset("[ 0.5, 1.0 ]", "[ 0.0, 1.0 ]"));
    EXPECT_TRUE(subset("[ 15/1, 30/1 ]", "[ 0/1, 30/1 ]"));
    EXPECT_FALSE(subset("[ 1, 10 ]", "[ 2, 5 ]"));
    EXPECT_FALSE(subset("[ 1, 10 ]", "[ 5, 20 ]"));
    EXPECT_FALSE(subset("[ 1, 10 ]", "5"));
}

TEST(CapsOpsTest, AListIsASubsetWhenEveryItemIs) {
    EXPECT_TRUE(subset("{ 2, 5 }", "[ 1, 10 ]"));
    EXPECT_TRUE(subset("{ NV12, I420 }", "{ I420, NV12, YUY2 }"));
    EXPECT_FALSE(subset("{ 2, 50 }", "[ 1, 10 ]"));
    EXPECT_FALSE(subset("{ I420, YUY2 }", "{ I420, NV12 }"));
    EXPECT_FALSE(subset("[ 1, 10 ]", "{ 2, 5 }"));
}

TEST(CapsOpsTest, AnIntRangeIsASubsetOfAListHoldingEachInt) {
    EXPECT_TRUE(subset("[ 1, 3 ]", "{ 3, 1, 2, 7 }"));
    EXPECT_FALSE(subset("[ 1, 3 ]", "{ 1, 3, 7 }"));
    EXPECT_FALSE(subset("[ 1.0, 2.0 ]", "{ 1.0, 2.0 }"));
}

TEST(CapsOpsTest, ABitmaskIsASubsetWhenItSetsNoOtherBits) {
    EXPECT_TRUE(subset("(bitmask)0x1", "(bitmask)0x3"));
    EXPECT_TRUE(subset("(bitmask)0x3", "(bitmask)0x3"));
    EXPECT_FALSE(subset("(bitmask)0x3", "(bitmask)0x1"));
}

// --- Structures ----------------------------------------------------------------

TEST(CapsOpsTest, StructuresIntersectFieldByFieldAndKeepUnsharedFields) {
    const auto r = intersect(structure_of("video/x-raw, format={ I420, NV12 }, width=[ 1, 1920 ]"),
                             structure_of("video/x-raw, width=[ 640, 4096 ], format=NV12, height=480"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->to_string(), "video/x-raw, format=(string)NV12, width=(int)[ 640, 1920 ], height=(int)480");
}

TEST(CapsOpsTest, StructuresWithDifferentNamesDoNotIntersect) {
    EXPECT_FALSE(intersect(structure_of("video/x-raw"), structure_of("audio/x-raw")));
}

TEST(CapsOpsTest, StructuresWithAnEmptyFieldIntersectionDoNotIntersect) {
    EXPECT_FALSE(intersect(structure_of("video/x-raw, format=I420, width=640"),
                           structure_of("video/x-raw, format=I420, width=[ 1000, 2000 ]")));
}

TEST(CapsOpsTest, AStructureWithMoreFieldsIsASubsetOfOneWithFewer) {
    const Structure more = structure_of("video/x-raw, format=I420, width=640");
    const Structure fewer = structure_of("video/x-raw, width=[ 1, 1920 ]");
    EXPECT_TRUE(is_subset(more, fewer));
    EXPECT_FALSE(is_subset(fewer, more));
    EXPECT_TRUE(is_subset(more, structure_of("video/x-raw")));
    EXPECT_TRUE(is_subset(more, more));
}

TEST(CapsOpsTest, AStructureIsNotASubsetWithAnotherNameOrAWiderValue) {
    EXPECT_FALSE(is_subset(structure_of("video/x-raw, width=640"), structure_of("image/jpeg")));
    EXPECT_FALSE(
        is_subset(structure_of("video/x-raw, width=[ 1, 4096 ]"), structure_of("video/x-raw, width=[ 1, 1920 ]")));
}

TEST(CapsOpsTest, FixateTakesTheMinimumOfRangesAndTheFirstListItem) {
    const Structure s = fixate(structure_of("video/x-raw, format={ NV12, I420 }, width=[ 320, 1920 ], "
                                            "rate=[ 0.5, 2.0 ], framerate=[ 15/2, 30/1 ], interlaced=false, "
                                            "mask=(bitmask)0x3, name=cam, par=1/1"));
    EXPECT_TRUE(s.is_fixed());
    EXPECT_EQ(s.to_string(), "video/x-raw, format=(string)NV12, width=(int)320, rate=(double)0.5, "
                             "framerate=(fraction)15/2, interlaced=(boolean)false, "
                             "mask=(bitmask)0x0000000000000003, name=(string)cam, par=(fraction)1/1");
}

TEST(CapsOpsTest, FixateOfAValueLeavesFixedValuesAlone) {
    EXPECT_EQ(fixate(value_of("7")), CapsValue(7));
    EXPECT_EQ(fixate(value_of("[ 3, 9 ]")), CapsValue(3));
    EXPECT_EQ(fixate(value_of("{ 2/1, 1/1 }")), CapsValue(frac(2, 1)));
}

TEST(CapsOpsTest, NearestIntClampsToTheRange) {
    Structure s = structure_of("video/x-raw, width=[ 320, 1920 ], height=[ 240, 1080 ]");
    EXPECT_TRUE(fixate_field_nearest_int(s, "width", 640));
    EXPECT_TRUE(fixate_field_nearest_int(s, "height", 4000));
    EXPECT_EQ(s.get_int("width"), 640);
    EXPECT_EQ(s.get_int("height"), 1080);
    s = structure_of("video/x-raw, width=[ 320, 1920 ]");
    EXPECT_TRUE(fixate_field_nearest_int(s, "width", -5));
    EXPECT_EQ(s.get_int("width"), 320);
}

TEST(CapsOpsTest, NearestIntPicksTheClosestListItemAndTheFirstOnATie) {
    Structure s = structure_of("audio/x-raw, rate={ 8000, 44100, 48000 }");
    EXPECT_TRUE(fixate_field_nearest_int(s, "rate", 47000));
    EXPECT_EQ(s.get_int("rate"), 48000);
    s = structure_of("audio/x-raw, channels={ 4, 2, 6 }");
    EXPECT_TRUE(fixate_field_nearest_int(s, "channels", 5));
    EXPECT_EQ(s.get_int("channels"), 4);
}

TEST(CapsOpsTest, NearestIntDoesNotApplyToFixedMissingOrOtherFields) {
    Structure s = structure_of("audio/x-raw, rate=44100, format={ S16LE, F32LE }, gain=[ 0.0, 1.0 ]");
    EXPECT_FALSE(fixate_field_nearest_int(s, "rate", 48000));
    EXPECT_FALSE(fixate_field_nearest_int(s, "channels", 2));
    EXPECT_FALSE(fixate_field_nearest_int(s, "format", 2));
    EXPECT_FALSE(fixate_field_nearest_int(s, "gain", 2));
    EXPECT_EQ(s.get_int("rate"), 44100);
}

TEST(CapsOpsTest, NearestFractionClampsToTheRangeOrPicksTheClosestItem) {
    Structure s = structure_of("video/x-raw, framerate=[ 0/1, 30/1 ]");
    EXPECT_TRUE(fixate_field_nearest_fraction(s, "framerate", frac(25, 1)));
    EXPECT_EQ(s.get_fraction("framerate"), frac(25, 1));
    s = structure_of("video/x-raw, framerate=[ 0/1, 30/1 ]");
    EXPECT_TRUE(fixate_field_nearest_fraction(s, "framerate", frac(60, 1)));
    EXPECT_EQ(s.get_fraction("framerate"), frac(30, 1));
    s = structure_of("video/x-raw, framerate={ 24/1, 30000/1001, 60/1 }");
    EXPECT_TRUE(fixate_field_nearest_fraction(s, "framerate", frac(30, 1)));
    EXPECT_EQ(s.get_fraction("framerate"), frac(30000, 1001));
    s = structure_of("video/x-raw, framerate=30/1");
    EXPECT_FALSE(fixate_field_nearest_fraction(s, "framerate", frac(25, 1)));
    EXPECT_FALSE(fixate_field_nearest_fraction(s, "missing", frac(25, 1)));
}

TEST(CapsOpsTest, FixateFieldStringPrefersTheTargetThenTheFirstItem) {
    Structure s = structure_of("video/x-raw, format={ I420, NV12, YUY2 }");
    EXPECT_TRUE(fixate_field_string(s, "format", "NV12"));
    EXPECT_EQ(s.get_string("format"), "NV12");
    s = structure_of("video/x-raw, format={ I420, NV12, YUY2 }");
    EXPECT_TRUE(fixate_field_string(s, "format", "RGBx"));
    EXPECT_EQ(s.get_string("format"), "I420");
    s = structure_of("video/x-raw, format=I420, width={ 1, 2 }");
    EXPECT_FALSE(fixate_field_string(s, "format", "NV12"));
    EXPECT_FALSE(fixate_field_string(s, "width", "NV12"));
    EXPECT_FALSE(fixate_field_string(s, "missing", "NV12"));
}

// --- Caps intersection ---------------------------------------------------------

TEST(CapsOpsTest, AnyIntersectedWithCapsGivesThoseCaps) {
    EXPECT_EQ(meet_caps("ANY", "video/x-raw, width=640"), "video/x-raw, width=(int)640");
    EXPECT_EQ(meet_caps("audio/x-raw", "ANY"), "audio/x-raw");
    EXPECT_EQ(meet_caps("ANY", "ANY"), "ANY");
}

TEST(CapsOpsTest, EmptyIntersectedWithAnythingIsEmpty) {
    EXPECT_EQ(meet_caps("EMPTY", "video/x-raw"), "EMPTY");
    EXPECT_EQ(meet_caps("video/x-raw", "EMPTY"), "EMPTY");
    EXPECT_EQ(meet_caps("EMPTY", "ANY"), "EMPTY");
    EXPECT_FALSE(can_intersect(parsed("EMPTY"), parsed("ANY")));
    EXPECT_TRUE(can_intersect(parsed("ANY"), parsed("video/x-raw")));
}

TEST(CapsOpsTest, CapsIntersectInTheFirstCapsOrder) {
    const std::string r = meet_caps("video/x-raw, format=NV12; video/x-raw, format=I420; image/jpeg",
                                    "video/x-raw, format={ I420, NV12 }, width=640; audio/x-raw");
    EXPECT_EQ(r, "video/x-raw, format=(string)NV12, width=(int)640; video/x-raw, format=(string)I420, width=(int)640");
}

TEST(CapsOpsTest, DisjointCapsIntersectToEmpty) {
    EXPECT_EQ(meet_caps("video/x-raw, format=NV12", "video/x-raw, format=I420; audio/x-raw"), "EMPTY");
    EXPECT_FALSE(can_intersect(parsed("video/x-raw, format=NV12"), parsed("video/x-raw, format=I420")));
    EXPECT_TRUE(can_intersect(parsed("video/x-raw, format=NV12"), parsed("audio/x-raw; video/x-raw")));
}

TEST(CapsOpsTest, StructuresWithDifferentFeaturesDoNotIntersect) {
    EXPECT_EQ(meet_caps("video/x-raw(memory:DMABuf), format=NV12", "video/x-raw, format=NV12"), "EMPTY");
    EXPECT_FALSE(can_intersect(parsed("video/x-raw(memory:DMABuf)"), parsed("video/x-raw")));
    EXPECT_EQ(meet_caps("video/x-raw(memory:DMABuf, meta:A), width=[ 1, 10 ]", "video/x-raw(meta:A, memory:DMABuf)"),
              "video/x-raw(memory:DMABuf, meta:A), width=(int)[ 1, 10 ]");
}

TEST(CapsOpsTest, NoFeaturesEqualsSystemMemory) {
    EXPECT_EQ(meet_caps("video/x-raw(memory:SystemMemory), width=640", "video/x-raw"),
              "video/x-raw(memory:SystemMemory), width=(int)640");
    EXPECT_TRUE(is_equal(parsed("video/x-raw"), parsed("video/x-raw(memory:SystemMemory)")));
}

TEST(CapsOpsTest, IntersectionLeavesOutStructuresAlreadyCovered) {
    EXPECT_EQ(meet_caps("video/x-raw, width=[ 1, 100 ]", "video/x-raw, width=[ 10, 20 ]; video/x-raw, width=15"),
              "video/x-raw, width=(int)[ 10, 20 ]");
}

// --- Caps subsets and equality -------------------------------------------------

TEST(CapsOpsTest, SubsetFollowsTheAnyAndEmptyRules) {
    EXPECT_TRUE(is_subset(parsed("EMPTY"), parsed("video/x-raw")));
    EXPECT_TRUE(is_subset(parsed("EMPTY"), parsed("EMPTY")));
    EXPECT_TRUE(is_subset(parsed("EMPTY"), parsed("ANY")));
    EXPECT_TRUE(is_subset(parsed("video/x-raw"), parsed("ANY")));
    EXPECT_TRUE(is_subset(parsed("ANY"), parsed("ANY")));
    EXPECT_FALSE(is_subset(parsed("ANY"), parsed("video/x-raw")));
    EXPECT_FALSE(is_subset(parsed("video/x-raw"), parsed("EMPTY")));
}

TEST(CapsOpsTest, CapsAreASubsetWhenEachStructureIsCoveredByOne) {
    EXPECT_TRUE(is_subset(parsed("video/x-raw, width=640, format=I420; audio/x-raw, rate=48000"),
                          parsed("audio/x-raw; video/x-raw, width=[ 1, 1920 ]")));
    EXPECT_FALSE(is_subset(parsed("video/x-raw, width=640; image/jpeg"), parsed("video/x-raw")));
    EXPECT_FALSE(is_subset(parsed("video/x-raw"), parsed("video/x-raw, width=640")));
}

TEST(CapsOpsTest, SubsetRequiresEqualFeatures) {
    EXPECT_FALSE(is_subset(parsed("video/x-raw(memory:DMABuf), width=640"), parsed("video/x-raw")));
    EXPECT_TRUE(is_subset(parsed("video/x-raw(memory:DMABuf), width=640"), parsed("video/x-raw(memory:DMABuf)")));
}

TEST(CapsOpsTest, IsEqualComparesSetsNotSpelling) {
    EXPECT_TRUE(is_equal(parsed("video/x-raw, width={ 1, 2 }"), parsed("video/x-raw, width=[ 1, 2 ]")));
    EXPECT_NE(parsed("video/x-raw, width={ 1, 2 }"), parsed("video/x-raw, width=[ 1, 2 ]"));
    EXPECT_TRUE(is_equal(parsed("audio/x-raw; video/x-raw"), parsed("video/x-raw; audio/x-raw")));
    EXPECT_TRUE(is_equal(parsed("ANY"), parsed("ANY")));
    EXPECT_TRUE(is_equal(parsed("EMPTY"), parsed("NONE")));
    EXPECT_FALSE(is_equal(parsed("ANY"), parsed("EMPTY")));
    EXPECT_FALSE(is_equal(parsed("video/x-raw, width=640"), parsed("video/x-raw")));
}

// --- Caps fixation, normalization, simplification ----------------------------

TEST(CapsOpsTest, FixateKeepsTheFirstStructureFixatedWithItsFeatures) {
    auto r = fixate(parsed("video/x-raw(memory:DMABuf), format={ NV12, I420 }, width=[ 320, 1920 ], "
                           "framerate=[ 15/1, 30/1 ]; video/x-raw, format=I420"));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->is_fixed());
    EXPECT_EQ(r->to_string(),
              "video/x-raw(memory:DMABuf), format=(string)NV12, width=(int)320, framerate=(fraction)15/1");
}

TEST(CapsOpsTest, FixateFailsOnAnyAndEmpty) {
    for (std::string_view text : {"ANY", "EMPTY"}) {
        auto r = fixate(parsed(text));
        ASSERT_FALSE(r) << text;
        EXPECT_EQ(r.error().code(), make_error_code(Errc::state)) << text;
        EXPECT_NE(r.error().message().find(text), std::string::npos) << r.error().message();
    }
}

TEST(CapsOpsTest, NormalizeExpandsTwoListsIntoTheirProduct) {
    const Caps n = normalize(parsed("video/x-raw(memory:DMABuf), format={ I420, NV12 }, width=[ 1, 10 ], "
                                    "height={ 480, 720 }; image/jpeg"));
    EXPECT_EQ(n.to_string(), "video/x-raw(memory:DMABuf), format=(string)I420, width=(int)[ 1, 10 ], height=(int)480; "
                             "video/x-raw(memory:DMABuf), format=(string)I420, width=(int)[ 1, 10 ], height=(int)720; "
                             "video/x-raw(memory:DMABuf), format=(string)NV12, width=(int)[ 1, 10 ], height=(int)480; "
                             "video/x-raw(memory:DMABuf), format=(string)NV12, width=(int)[ 1, 10 ], height=(int)720; "
                             "image/jpeg");
    const Caps original = parsed("video/x-raw(memory:DMABuf), format={ I420, NV12 }, width=[ 1, 10 ], "
                                 "height={ 480, 720 }; image/jpeg");
    EXPECT_TRUE(is_subset(n, original));
    // As in GStreamer, a structure covered only by the union of several
    // structures does not count as a subset.
    EXPECT_FALSE(is_subset(original, n));
}

TEST(CapsOpsTest, NormalizeLeavesAnyEmptyAndListFreeCapsAlone) {
    EXPECT_EQ(normalize(parsed("ANY")), parsed("ANY"));
    EXPECT_EQ(normalize(parsed("EMPTY")), parsed("EMPTY"));
    EXPECT_EQ(normalize(parsed("video/x-raw, width=[ 1, 10 ]")), parsed("video/x-raw, width=[ 1, 10 ]"));
}

TEST(CapsOpsTest, SimplifyRemovesStructuresThatAreSubsetsOfOthers) {
    const Caps s = simplify(parsed("video/x-raw, format=I420, width=640; audio/x-raw; "
                                   "video/x-raw, width=[ 1, 1920 ]; video/x-raw(memory:DMABuf), width=640"));
    EXPECT_EQ(s.to_string(),
              "audio/x-raw; video/x-raw, width=(int)[ 1, 1920 ]; video/x-raw(memory:DMABuf), width=(int)640");
}

TEST(CapsOpsTest, SimplifyKeepsTheFirstOfEqualStructures) {
    EXPECT_EQ(
        simplify(parsed("video/x-raw, width={ 1, 2 }; video/x-raw, width=[ 1, 2 ]; video/x-raw, width=1")).to_string(),
        "video/x-raw, width=(int){ 1, 2 }");
    EXPECT_EQ(simplify(parsed("ANY")), parsed("ANY"));
    EXPECT_EQ(simplify(parsed("EMPTY")), parsed("EMPTY"));
}

} // namespace
} // namespace parallax
