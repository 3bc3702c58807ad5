#include <git2.h>
#include <git2/sys/repository.h>

// git_libgit2_opts is variadic, which Swift cannot call: one fixed-argument wrapper per option used.
static inline int git_rag_set_search_path(int level, const char *path) {
  return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path);
}
