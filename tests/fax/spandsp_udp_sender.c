/* Test oracle: spandsp 0.0.6's T.38 terminal as the *sending* fax, talking UDPTL over a real UDP
 * socket to the receiver under test (our listener). A 20 ms step normally waits at most 1 ms for
 * datagrams, so pages stream ~20x faster than real time; but once the sender has gone quiet (it sent
 * the no-signal indicator and waits for an answer) steps take the full 20 ms until a datagram
 * arrives, so T.30 timers such as T4 keep their real-time meaning and a busy test machine cannot
 * make the receiver look late.
 * Every DROP_EVERY-th large IFP is not sent, so
 * the receiver has to ask for it again (ECM PPR) or lose lines (non-ECM).
 *
 * usage: spandsp_udp_sender TX.tif HOST PORT ECM COMPRESSIONS T38VERSION DROP_EVERY
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <unistd.h>
#include <poll.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <tiffio.h>
#include <spandsp.h>

static int sock;
static struct sockaddr_in peer;
static uint16_t tx_seq;
static uint8_t prev[2][1500];
static int prev_len[2];
static int drop_every, big_count, done, result, awaiting;

static int put_len(uint8_t *p, int len)
{
    if (len < 0x80) { p[0] = (uint8_t) len; return 1; }
    p[0] = (uint8_t) (0x80 | (len >> 8)); p[1] = (uint8_t) len; return 2;
}

static int tx_handler(t38_core_state_t *s, void *user_data, const uint8_t *buf, int len, int count)
{
    uint8_t pkt[4600];
    (void) s; (void) user_data;
    awaiting = len == 1 && buf[0] == 0x00;  /* indicator no-signal: our carrier is off */
    int n = 0;
    pkt[n++] = (uint8_t) (tx_seq >> 8);
    pkt[n++] = (uint8_t) tx_seq;
    n += put_len(pkt + n, len);
    memcpy(pkt + n, buf, len);
    n += len;
    pkt[n++] = 0x00;                       /* secondary-ifp-packets: redundancy depth 2 */
    int depth = 0;
    for (int i = 0; i < 2; i++) if (prev_len[i] > 0) depth++;
    pkt[n++] = (uint8_t) depth;
    for (int i = 0; i < depth; i++) {
        n += put_len(pkt + n, prev_len[i]);
        memcpy(pkt + n, prev[i], prev_len[i]);
        n += prev_len[i];
    }
    int drop = drop_every > 0 && len > 40 && (++big_count % drop_every) == 0;
    if (!drop) {
        for (int k = 0; k < count; k++)
            sendto(sock, pkt, n, 0, (struct sockaddr *) &peer, sizeof(peer));
    } else {
        /* a real loss also takes the redundant copies with it: forget history */
        prev_len[0] = prev_len[1] = 0;
        tx_seq++;
        return 0;
    }
    memcpy(prev[1], prev[0], prev_len[0]);
    prev_len[1] = prev_len[0];
    if (len <= 1500) { memcpy(prev[0], buf, len); prev_len[0] = len; }
    tx_seq++;
    return 0;
}

static void phase_e(t30_state_t *s, void *user_data, int completion_code)
{
    (void) s; (void) user_data;
    done = 1;
    result = completion_code;
}

int main(int argc, char *argv[])
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s TX.tif HOST PORT ECM COMPRESSIONS T38VERSION DROP_EVERY\n", argv[0]);
        return 2;
    }
    sock = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&peer, 0, sizeof(peer));
    peer.sin_family = AF_INET;
    peer.sin_port = htons((uint16_t) atoi(argv[3]));
    inet_pton(AF_INET, argv[2], &peer.sin_addr);
    drop_every = atoi(argv[7]);
    t38_terminal_state_t *term = t38_terminal_init(NULL, 1, tx_handler, NULL);
    t38_core_state_t *core = t38_terminal_get_t38_core_state(term);
    t38_set_t38_version(core, atoi(argv[6]));
    t30_state_t *t30 = t38_terminal_get_t30_state(term);
    t30_set_tx_ident(t30, "+1 555 0100");
    t30_set_ecm_capability(t30, atoi(argv[4]));
    t30_set_supported_compressions(t30, atoi(argv[5]));
    t30_set_supported_image_sizes(t30, T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH | T30_SUPPORT_303MM_WIDTH
                                  | T30_SUPPORT_UNLIMITED_LENGTH | T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH);
    t30_set_phase_e_handler(t30, phase_e, NULL);
    t30_set_tx_file(t30, argv[1], -1, -1);
    if (getenv("FAX_DEBUG")) {
        int level = SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_SHOW_PROTOCOL | SPAN_LOG_FLOW;
        span_log_set_level(t38_terminal_get_logging_state(term), level);
        span_log_set_level(t38_core_get_logging_state(core), level);
        span_log_set_level(t30_get_logging_state(t30), level);
    }
    struct pollfd pfd = { .fd = sock, .events = POLLIN };
    for (int step = 0; step < 12000 && !done; step++) {
        t38_terminal_send_timeout(term, 160);
        while (poll(&pfd, 1, awaiting ? 20 : 1) > 0) {
            awaiting = 0;
            uint8_t buf[4096];
            ssize_t got = recv(sock, buf, sizeof(buf), 0);
            if (got < 4)
                continue;
            int len = buf[2], off = 3;
            if (len & 0x80) { len = ((len & 0x3F) << 8) | buf[3]; off = 4; }
            if (off + len <= got)
                t38_core_rx_ifp_packet(core, buf + off, len, (uint16_t) ((buf[0] << 8) | buf[1]));
        }
    }
    t30_stats_t st;
    t30_get_transfer_statistics(t30, &st);
    printf("sender=%d pages=%d encoding=%d ecm=%d\n", result, st.pages_tx, st.encoding, st.error_correcting_mode);
    return done && result == 0 ? 0 : 1;
}
