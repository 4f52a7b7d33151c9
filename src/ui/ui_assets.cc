#include "ui/ui_assets.h"

#include <charconv>
#include <string>

namespace slawatch {
namespace {

constexpr std::string_view kUiPrefix = "/ui/";
constexpr std::string_view kDefaultLang = "<html lang=\"en\">";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// q of one "tag;q=0.8" item (1 when absent, 0 when unreadable).
double quality(std::string_view params) {
  const size_t q = params.find("q=");
  if (q == std::string_view::npos) return 1.0;
  const std::string_view value = trim(params.substr(q + 2));
  double out = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  return ec == std::errc{} ? out : 0.0;
}

}  // namespace

std::string_view ui_content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

std::string_view preferred_ui_language(std::string_view accept_language) {
  std::string_view best = "en";
  double best_q = 0;
  while (!accept_language.empty()) {
    const size_t comma = accept_language.find(',');
    const std::string_view item = accept_language.substr(0, comma);
    accept_language = comma == std::string_view::npos ? std::string_view{} : accept_language.substr(comma + 1);
    const size_t semicolon = item.find(';');
    const std::string_view tag = trim(item.substr(0, semicolon));
    const double q = semicolon == std::string_view::npos ? 1.0 : quality(item.substr(semicolon + 1));
    const bool zh = tag == "zh" || tag.starts_with("zh-");
    const bool en = tag == "en" || tag.starts_with("en-");
    if ((zh || en) && q > best_q) {
      best = zh ? "zh" : "en";
      best_q = q;
    }
  }
  return best;
}

HttpResponse serve_ui_file(const HttpRequest& request) {
  std::string_view name = "index.html";
  if (request.path.starts_with(kUiPrefix) && request.path.size() > kUiPrefix.size()) {
    name = request.path.substr(kUiPrefix.size());
  } else if (request.path != "/ui" && request.path != kUiPrefix) {
    return HttpResponse{404, "text/plain; charset=utf-8", "not found\n"};
  }
  for (const auto& file : ui_embedded_files()) {
    if (file.name != name) continue;
    std::string content(file.content);
    if (name == "index.html" && preferred_ui_language(request.accept_language) == "zh") {
      if (const size_t at = content.find(kDefaultLang); at != std::string::npos) {
        content.replace(at, kDefaultLang.size(), "<html lang=\"zh\">");
      }
    }
    return HttpResponse{200, std::string(ui_content_type(name)), std::move(content)};
  }
  return HttpResponse{404, "text/plain; charset=utf-8", "no file '" + std::string(name) + "' in the workbench\n"};
}

void add_ui_routes(HttpRoutes& routes) {
  routes.get("/ui", serve_ui_file);
  routes.get_prefix(std::string(kUiPrefix), serve_ui_file);
}

}  // namespace slawatch
