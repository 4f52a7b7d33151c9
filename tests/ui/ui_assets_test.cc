// The workbench's files as compiled into the binary: every file of
// src/ui/static is there byte for byte, /ui and /ui/ serve the page, each file
// has its content type, an unknown name is a 404 (no path outside the list),
// and Accept-Language picks the page's language (q values, zh-* and en-*).
#include "ui/ui_assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace slawatch {
namespace {

constexpr const char* kStaticDir = SLAWATCH_SOURCE_DIR "/src/ui/static";

HttpRequest get(std::string_view path, std::string_view accept_language = "") {
  HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.accept_language = accept_language;
  return r;
}

std::string source_file(const std::string& name) {
  std::ifstream in(std::filesystem::path(kStaticDir) / name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(UiAssets, EveryStaticFileIsEmbeddedByteForByte) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kStaticDir)) {
    const std::string name = entry.path().filename().string();
    ++files;
    bool found = false;
    for (const auto& file : ui_embedded_files()) {
      if (file.name != name) continue;
      found = true;
      EXPECT_EQ(file.content, source_file(name)) << name;
    }
    EXPECT_TRUE(found) << name << " is in src/ui/static but not embedded (add it to src/ui/CMakeLists.txt)";
  }
  EXPECT_EQ(files, ui_embedded_files().size());
}

TEST(UiAssets, ServesThePageAndItsFilesWithTheirContentTypes) {
  for (const char* path : {"/ui", "/ui/", "/ui/index.html"}) {
    const HttpResponse page = serve_ui_file(get(path));
    EXPECT_EQ(page.status, 200) << path;
    EXPECT_EQ(page.content_type, "text/html; charset=utf-8") << path;
    EXPECT_NE(page.body.find("<script src=\"/ui/app.js\">"), std::string::npos) << path;
  }
  EXPECT_EQ(serve_ui_file(get("/ui/app.js")).content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(serve_ui_file(get("/ui/app.js")).body, source_file("app.js"));
  EXPECT_EQ(serve_ui_file(get("/ui/style.css")).content_type, "text/css; charset=utf-8");
  for (const char* path : {"/ui/missing.js", "/ui/../CMakeLists.txt", "/ui/static/app.js", "/uix", "/"}) {
    EXPECT_EQ(serve_ui_file(get(path)).status, 404) << path;
  }
}

TEST(UiAssets, RoutesCoverTheBareAndSlashedPaths) {
  HttpRoutes routes;
  add_ui_routes(routes);
  for (const char* path : {"/ui", "/ui/", "/ui/app.js"}) {
    const HttpHandler* handler = routes.find(path);
    ASSERT_NE(handler, nullptr) << path;
    EXPECT_EQ((*handler)(get(path)).status, 200) << path;
  }
  EXPECT_EQ(routes.find("/api/v1/alerts"), nullptr);
}

TEST(UiAssets, AcceptLanguagePicksChineseOrEnglish) {
  EXPECT_EQ(preferred_ui_language(""), "en");
  EXPECT_EQ(preferred_ui_language("zh-CN,zh;q=0.9,en;q=0.8"), "zh");
  EXPECT_EQ(preferred_ui_language("zh"), "zh");
  EXPECT_EQ(preferred_ui_language("en-US,en;q=0.9,zh-CN;q=0.8"), "en");
  EXPECT_EQ(preferred_ui_language("de-DE, zh-TW;q=0.5, en;q=0.4"), "zh");  // the best of the two it knows
  EXPECT_EQ(preferred_ui_language("en;q=0.5, zh;q=0.5"), "en");            // a tie: the first listed
  EXPECT_EQ(preferred_ui_language("zh;q=0, en;q=0.1"), "en");              // q=0 means "not this"
  EXPECT_EQ(preferred_ui_language("fr, de"), "en");
  EXPECT_EQ(preferred_ui_language("zhx, english"), "en");  // neither a zh nor an en tag
}

TEST(UiAssets, ThePageTakesItsDefaultLanguageFromAcceptLanguage) {
  EXPECT_NE(serve_ui_file(get("/ui/", "zh-CN,zh;q=0.9")).body.find("<html lang=\"zh\">"), std::string::npos);
  EXPECT_NE(serve_ui_file(get("/ui/", "en-GB")).body.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(serve_ui_file(get("/ui/")).body.find("<html lang=\"en\">"), std::string::npos);
  // Only the page: a script is served as it is.
  EXPECT_EQ(serve_ui_file(get("/ui/app.js", "zh-CN")).body, source_file("app.js"));
}

}  // namespace
}  // namespace slawatch
