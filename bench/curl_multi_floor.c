// The floor of libcurl's multi-socket API for bench/cpu_per_request (issue #28): N GETs of
// one URL over C connections, one thread, no scheduler, no results, just libcurl driven by
// epoll as curl's ephiperfifo.c does it (level-triggered, one timerfd; a 0 ms timeout served
// by the loop at once), with C easy handles
// reused as orchestrator reuses them, NOSIGNAL set and the body thrown away. What this
// program spends per request is what libcurl 7.88 and the kernel cost; orchestrator can only
// add to it.
//
//   cc -O2 -o curl_multi_floor bench/curl_multi_floor.c -lcurl
//   curl_multi_floor URL N C            # exits 0 when all N got a 2xx; prints "ok N"
//   CURL_MULTI_FLOOR_TUNED=1 curl_multi_floor URL N C   # as orchestrator sets it up (#28):
//       the URL parsed once (CURLOPT_CURLU), CURLOPT_PROXY "" and CURLOPT_NOPROXY ""
//   bench/cpu_per_request --extra 'floor=/path/curl_multi_floor'
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int epfd, tfd;
static CURLM *multi;
static long started, done_ok, done_total, total;
static const char *url;
static CURLU *parsed;  // when tuned

static size_t discard(char *data, size_t size, size_t n, void *user) {
  (void)data;
  (void)user;
  return size * n;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *socketp) {
  (void)easy;
  (void)user;
  struct epoll_event ev = {0};
  ev.data.fd = fd;
  if (what == CURL_POLL_REMOVE) {
    if (socketp) epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    curl_multi_assign(multi, fd, NULL);
    return 0;
  }
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  if (socketp) {
    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
  } else {
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    curl_multi_assign(multi, fd, (void *)1);
  }
  return 0;
}

static int timeout_now;

// 0 ms is served by the loop right away; a later time arms the timerfd.
static int on_timer(CURLM *m, long ms, void *user) {
  (void)m;
  (void)user;
  if (ms == 0) {
    timeout_now = 1;
    return 0;
  }
  struct itimerspec its = {0};
  if (ms > 0) {
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1000000;
  }
  timerfd_settime(tfd, 0, &its, NULL);
  return 0;
}

static void start(CURL *easy) {
  if (parsed) {
    curl_easy_setopt(easy, CURLOPT_CURLU, parsed);
  } else {
    curl_easy_setopt(easy, CURLOPT_URL, url);
  }
  curl_multi_add_handle(multi, easy);
  ++started;
}

static void drain(void) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(multi, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL *easy = msg->easy_handle;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (msg->data.result == CURLE_OK && code >= 200 && code < 300) ++done_ok;
    ++done_total;
    curl_multi_remove_handle(multi, easy);
    if (started < total) start(easy);
  }
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s URL N C\n", argv[0]);
    return 2;
  }
  url = argv[1];
  total = atol(argv[2]);
  long c = atol(argv[3]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const char *tuned = getenv("CURL_MULTI_FLOOR_TUNED");
  if (tuned && *tuned == '1') {
    parsed = curl_url();
    curl_url_set(parsed, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME);
  }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = tfd};
  epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
  multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, c);
  for (long i = 0; i < c && started < total; ++i) {
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    if (parsed) {
      curl_easy_setopt(easy, CURLOPT_PROXY, "");
      curl_easy_setopt(easy, CURLOPT_NOPROXY, "");
    }
    start(easy);
  }
  int running = 0;
  struct epoll_event events[64];
  while (done_total < total) {
    while (timeout_now) {
      timeout_now = 0;
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
      drain();
    }
    int n = epoll_wait(epfd, events, 64, 1000);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == tfd) {
        unsigned long long expirations;
        if (read(tfd, &expirations, sizeof expirations) < 0) {
          // spurious wake-up: nothing to read
        }
        curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
      } else {
        int select = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                     (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                     (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(multi, events[i].data.fd, select, &running);
      }
      drain();
    }
  }
  for (long i = 0; i < done_ok; ++i) puts("200");  // what bench/cpu_per_request counts
  fprintf(stderr, "ok %ld of %ld\n", done_ok, total);
  return done_ok == total ? 0 : 1;
}
