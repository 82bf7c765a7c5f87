#include "orchestrator/dependency_values.h"

#include <gtest/gtest.h>

#include <string>

namespace orchestrator {
namespace {

constexpr std::size_t kSku = 0, kPrice = 1;

CapturedValues Values(std::optional<std::string> sku, std::optional<std::string> price) {
  CapturedValues values;
  if (sku) values.Set(kSku, *sku);
  if (price) values.Set(kPrice, *price);
  return values;
}

TEST(DependencyValuesTest, OneIsTheValueOfTheOnlyDependencyThatHasIt) {
  DependencyValues values;
  values.Add(7, 0, 103, Values("sku-3", std::nullopt));
  values.Add(7, 0, 101, Values(std::nullopt, "1.5"));
  std::string problem;
  EXPECT_EQ(values.One(7, kSku, "sku", problem), "sku-3");
  EXPECT_EQ(values.One(7, kPrice, "price", problem), "1.5");
  EXPECT_EQ(problem, "");
}

TEST(DependencyValuesTest, NoneOrSeveralIsAProblemThatSaysWhich) {
  DependencyValues values;
  std::string problem;
  EXPECT_EQ(values.One(7, kSku, "sku", problem), std::nullopt);
  EXPECT_EQ(problem, "dep.sku: no dependency captured sku");
  values.Add(7, 0, 102, Values("b", std::nullopt));
  values.Add(7, 0, 101, Values("a", std::nullopt));
  EXPECT_EQ(values.One(7, kSku, "sku", problem), std::nullopt);
  EXPECT_EQ(problem,
            "dep.sku: 2 dependencies captured sku (101, 102); {deps.sku:json} lists every "
            "one");
  for (TaskId id = 103; id < 110; ++id) values.Add(7, 0, id, Values("x", {}));
  values.One(7, kSku, "sku", problem);
  EXPECT_EQ(problem,
            "dep.sku: 9 dependencies captured sku (101, 102, 103, 104, 105, ...); "
            "{deps.sku:json} lists every one");
}

TEST(DependencyValuesTest, AllIsAJsonArrayWithNullForNoneByTaskIdWhenRanksTie) {
  DependencyValues values;
  values.Add(4, 0, 109, Values("last \"quoted\"", std::nullopt));
  values.Add(4, 0, 100, Values("first", std::nullopt));
  values.Add(4, 0, 105, Values(std::nullopt, "2"));
  std::string out;
  values.AppendAll(out, 4, kSku);
  EXPECT_EQ(out, R"(["first",null,"last \"quoted\""])");
  CapturedValues json;
  json.Set(kSku, "{\"a\":[1,2]}", CapturedAs::kJson);
  values.Add(4, 0, 106, json);
  out.clear();
  values.AppendAll(out, 4, kSku);
  EXPECT_EQ(out, R"(["first",null,{"a":[1,2]},"last \"quoted\""])") << "JSON as JSON";
  out.clear();
  values.AppendAll(out, 5, kSku);
  EXPECT_EQ(out, "[]") << "a task without dependencies";
}

TEST(DependencyValuesTest, AllFollowsTheOrderTheChildsRowListsItsParentsIn) {
  // depends_on "109;100;105": whatever order the parents end in.
  DependencyValues values;
  values.Add(4, 2, 105, Values("third", std::nullopt));
  values.Add(4, 0, 109, Values("first", std::nullopt));
  values.Add(4, 1, 100, Values("second", std::nullopt));
  std::string out;
  values.AppendAll(out, 4, kSku);
  EXPECT_EQ(out, R"(["first","second","third"])");
}

TEST(DependencyValuesTest, ForgetLetsAChildsValuesGo) {
  DependencyValues values;
  values.Add(1, 0, 100, Values("a", std::nullopt));
  values.Add(2, 0, 100, Values("a", std::nullopt));
  EXPECT_EQ(values.children(), 2u);
  values.Forget(1);
  EXPECT_EQ(values.children(), 1u);
  std::string problem;
  EXPECT_EQ(values.One(1, kSku, "sku", problem), std::nullopt);
}

}  // namespace
}  // namespace orchestrator
