/* Test oracle: two spandsp 0.0.6 T.38 terminals (sender = calling party, receiver =
 * answering party) wired back to back in simulated time. Every IFP packet each side emits is
 * logged as "DIR SEQ COUNT HEX" (DIR: S = sender->receiver, R = receiver->sender, X = a
 * sender packet deliberately not delivered, to provoke ECM partial page requests).
 * UDPTL framing, redundancy and pcap writing happen in the Python test helpers.
 *
 * usage: spandsp_loopback TX.tif RX.tif OUT.txt ECM COMPRESSIONS T38VERSION DROP_EVERY START_SEQ
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <tiffio.h>
#include <spandsp.h>

#define QMAX 4096

typedef struct { uint8_t buf[1500]; int len; } pkt_t;
typedef struct {
    char dir;
    FILE *log;
    uint16_t seq;
    pkt_t q[QMAX];
    int qn;
    int drop_every;
    int big_count;
    int done;
    int result;
} side_t;

static side_t sides[2];

static int tx_handler(t38_core_state_t *s, void *user_data, const uint8_t *buf, int len, int count)
{
    side_t *me = (side_t *) user_data;
    char dir = me->dir;
    (void) s;
    if (me->dir == 'S' && me->drop_every > 0 && len > 40) {
        if (++me->big_count % me->drop_every == 0)
            dir = 'X';
    }
    fprintf(me->log, "%c %u %d ", dir, (unsigned) me->seq, count);
    for (int i = 0; i < len; i++)
        fprintf(me->log, "%02x", buf[i]);
    fprintf(me->log, "\n");
    if (dir != 'X' && me->qn < QMAX && len <= 1500) {
        memcpy(me->q[me->qn].buf, buf, len);
        me->q[me->qn].len = len | (me->seq << 16);
        me->qn++;
    }
    me->seq++;
    return 0;
}

static void phase_e(t30_state_t *s, void *user_data, int completion_code)
{
    side_t *me = (side_t *) user_data;
    (void) s;
    me->done = 1;
    me->result = completion_code;
}

int main(int argc, char *argv[])
{
    if (argc != 9) {
        fprintf(stderr, "usage: %s TX.tif RX.tif OUT.txt ECM COMPRESSIONS T38VERSION DROP_EVERY START_SEQ\n", argv[0]);
        return 2;
    }
    FILE *log = fopen(argv[3], "w");
    if (log == NULL)
        return 2;
    int ecm = atoi(argv[4]);
    int compressions = atoi(argv[5]);
    int version = atoi(argv[6]);
    t38_terminal_state_t *term[2];
    for (int i = 0; i < 2; i++) {
        sides[i].dir = i == 0 ? 'S' : 'R';
        sides[i].log = log;
        sides[i].seq = (uint16_t) atoi(argv[8]);
        sides[i].drop_every = i == 0 ? atoi(argv[7]) : 0;
        term[i] = t38_terminal_init(NULL, i == 0, tx_handler, &sides[i]);
        t38_core_state_t *core = t38_terminal_get_t38_core_state(term[i]);
        t38_set_t38_version(core, version);
        t30_state_t *t30 = t38_terminal_get_t30_state(term[i]);
        t30_set_tx_ident(t30, i == 0 ? "+1 555 0100" : "+1 555 0199");
        t30_set_ecm_capability(t30, ecm);
        t30_set_supported_compressions(t30, compressions);
        t30_set_supported_image_sizes(t30, T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH | T30_SUPPORT_303MM_WIDTH
                                      | T30_SUPPORT_UNLIMITED_LENGTH | T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH);
        t30_set_phase_e_handler(t30, phase_e, &sides[i]);
        if (i == 0)
            t30_set_tx_file(t30, argv[1], -1, -1);
        else
            t30_set_rx_file(t30, argv[2], -1);
    }
    /* 20 ms steps, at most 15 simulated minutes. */
    for (int step = 0; step < 45000 && !(sides[0].done && sides[1].done); step++) {
        for (int i = 0; i < 2; i++) {
            t38_terminal_send_timeout(term[i], 160);
            t38_core_state_t *peer = t38_terminal_get_t38_core_state(term[1 - i]);
            int n = sides[i].qn;
            sides[i].qn = 0;
            for (int k = 0; k < n; k++) {
                pkt_t *p = &sides[i].q[k];
                t38_core_rx_ifp_packet(peer, p->buf, p->len & 0xFFFF, (uint16_t) (p->len >> 16));
            }
        }
    }
    t30_stats_t st;
    t30_get_transfer_statistics(t38_terminal_get_t30_state(term[1]), &st);
    printf("sender=%d receiver=%d pages=%d encoding=%d ecm=%d bad_rows=%d\n",
           sides[0].result, sides[1].result, st.pages_rx, st.encoding, st.error_correcting_mode, st.bad_rows);
    fclose(log);
    return sides[0].done && sides[1].done ? 0 : 1;
}
