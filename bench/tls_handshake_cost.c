// What a TLS connection costs a plain OpenSSL 3.0 client on this machine, without curl:
// connect to 127.0.0.1:PORT, handshake (verifying the server against /tmp/tls/ca.pem, or the
// CA file given as the 5th argument), GET /x with Connection: close, read to the end, close;
// 1,000 times, CPU time (getrusage) per connection. The floor under what orchestrator pays.
//   gcc -O2 bench/tls_handshake_cost.c -o /tmp/hs -lssl -lcrypto
//   /tmp/hs PORT NEW_CTX REUSE_SESSION 13|12 [CA]
// NEW_CTX 1: an SSL_CTX per connection (as curl 7.88 makes); REUSE_SESSION 1: offer the
// last session (resumption); 12: at most TLS 1.2. The server must close after each answer
// and keep a session cache (nginx: keepalive_timeout 0; ssl_session_cache shared:SSL:10m).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
static double cpu() {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec +
         r.ru_stime.tv_usec / 1e6;
}
static const char* ca_file = "/tmp/tls/ca.pem";
static SSL_CTX* mk(int maxv) {
  SSL_CTX* c = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
  SSL_CTX_load_verify_file(c, ca_file);
  if (maxv) SSL_CTX_set_max_proto_version(c, maxv);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT);
  return c;
}
int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s PORT NEW_CTX REUSE_SESSION 13|12 [CA]\n", argv[0]);
    return 2;
  }
  if (argc > 5) ca_file = argv[5];
  int port = atoi(argv[1]);
  int newctx = atoi(argv[2]);
  int reuse = atoi(argv[3]);
  int maxv = atoi(argv[4]) == 12 ? TLS1_2_VERSION : 0;
  int n = 1000;
  SSL_CTX* shared = mk(maxv);
  SSL_SESSION* sess = NULL;
  int resumed = 0;
  double t = cpu();
  for (int i = 0; i < n; i++) {
    SSL_CTX* ctx = newctx ? mk(maxv) : shared;
    if (newctx && sess == NULL) {
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(fd, (void*)&a, sizeof a)) {
      perror("connect");
      return 1;
    }
    SSL* s = SSL_new(ctx);
    SSL_set_fd(s, fd);
    if (reuse && sess) SSL_set_session(s, sess);
    if (SSL_connect(s) != 1) {
      ERR_print_errors_fp(stderr);
      return 1;
    }
    const char* req = "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    SSL_write(s, req, strlen(req));
    char buf[4096];
    while (SSL_read(s, buf, sizeof buf) > 0) {
    }
    resumed += SSL_session_reused(s);
    if (reuse) {
      SSL_SESSION* ns = SSL_get1_session(s);
      if (ns) {
        if (sess) SSL_SESSION_free(sess);
        sess = ns;
      }
    }
    SSL_shutdown(s);
    SSL_free(s);
    close(fd);
    if (newctx) SSL_CTX_free(ctx);
  }
  printf("port %d newctx=%d reuse=%d tls%s: %.0f us/conn cpu, resumed %d\n", port, newctx, reuse,
         maxv ? "1.2" : "1.3", (cpu() - t) / n * 1e6, resumed);
}
