#pragma once
// The workbench (issue 18): a read-only page for discipline inspection, served
// under /ui/ by the operational HTTP server from files compiled into the
// binary (static/, embedded by embed.cmake). The page only calls the case API
// (api/CaseApi); it writes nothing. Thread-safe: the files are constants.
#include <span>
#include <string_view>

#include "http/http_server.h"

namespace slawatch {

struct EmbeddedFile {
  std::string_view name;  // "index.html"
  std::string_view content;
};

// Every file of src/ui/static, as built (defined in the generated ui_embedded.cc).
std::span<const EmbeddedFile> ui_embedded_files();

// The content type a file is served with, from its extension.
std::string_view ui_content_type(std::string_view name);

// "zh" or "en": the language of the two the Accept-Language header prefers
// (highest q, then first listed); "en" when it names neither.
std::string_view preferred_ui_language(std::string_view accept_language);

// GET /ui/ (index.html, with <html lang> set from Accept-Language), /ui (the same) and /ui/<file>; another path under
// /ui/ is a 404. The files hold no data, so they need no token: the page asks
// for the read token when the API answers 401.
void add_ui_routes(HttpRoutes& routes);

// One request's answer (what the routes call; tests call it directly).
HttpResponse serve_ui_file(const HttpRequest& request);

}  // namespace slawatch
