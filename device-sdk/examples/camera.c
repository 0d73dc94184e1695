/*
 * An example camera in C on top of the sealcam device SDK.
 *
 *   camera STATE_DIR pair CODE                 pair with the owner who showed CODE
 *   camera STATE_DIR sync                      fetch and check the recipient set
 *   camera STATE_DIR record THUMB CLIP JSON    seal + upload one event, print its id
 *   camera STATE_DIR drain                     upload what the spool holds
 *
 * The clip is pulled from a FILE* through sealcam_read_cb, the way a firmware
 * would stream it from its encoder: the SDK never needs the whole clip in
 * memory. Build (see device-sdk/ffi/tests/c_example.rs):
 *
 *   cc -std=c11 -Wall -Wextra -Werror -I device-sdk/include \
 *      device-sdk/examples/camera.c libsealcam_device_ffi.a -lpthread -ldl -lm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealcam_device.h"

static void report(sealcam_device *dev, const char *what, sealcam_result r) {
    char message[512];
    sealcam_device_last_error(dev, message, sizeof message);
    fprintf(stderr, "camera: %s failed: %s (%s)\n", what, sealcam_result_name((int)r),
            message);
}

/* Pulls clip bytes from a FILE*: >0 bytes read, 0 at the end, <0 on error. */
static ptrdiff_t read_clip(void *userdata, uint8_t *buf, size_t len) {
    FILE *f = (FILE *)userdata;
    size_t n = fread(buf, 1, len, f);
    if (n == 0 && ferror(f)) {
        return -1;
    }
    return (ptrdiff_t)n;
}

/* Notices: what a firmware would log or count. */
static void on_notice(void *userdata, const sealcam_notice *n) {
    (void)userdata;
    switch (n->kind) {
    case SEALCAM_NOTICE_UPLOADED:
        fprintf(stderr, "camera: uploaded %s (%llu bytes)\n", n->part,
                (unsigned long long)n->bytes);
        break;
    case SEALCAM_NOTICE_SPOOLED:
        fprintf(stderr, "camera: spooled %s\n", n->part);
        break;
    case SEALCAM_NOTICE_LOST:
        fprintf(stderr, "camera: LOST %s of %s: %s\n", n->part, n->event_id, n->message);
        break;
    case SEALCAM_NOTICE_SET_REFUSED:
        fprintf(stderr, "camera: refused a recipient set (%s), keeping epoch %llu\n",
                n->message, (unsigned long long)n->epoch);
        break;
    case SEALCAM_NOTICE_OWNER_KEY_CHANGED:
        fprintf(stderr, "camera: the owner key moved (%s)\n", n->message);
        break;
    case SEALCAM_NOTICE_KEY_REFUSED:
        fprintf(stderr, "camera: REFUSED the owner's key log (%s)\n", n->message);
        break;
    case SEALCAM_NOTICE_SET_EXPIRED:
        fprintf(stderr, "camera: recipient set epoch %llu %s\n",
                (unsigned long long)n->epoch, n->message);
        break;
    default:
        break;
    }
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t cap = 0, used = 0;
    for (;;) {
        if (used == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (n == 0) {
            break;
        }
    }
    fclose(f);
    *len = used;
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s STATE_DIR pair CODE | sync | record THUMB CLIP JSON | drain\n",
                argv[0]);
        return 2;
    }
    sealcam_device *dev = NULL;
    sealcam_result r = sealcam_device_open(argv[1], &dev);
    if (r != SEALCAM_OK) {
        fprintf(stderr, "camera: open failed: %s\n", sealcam_result_name((int)r));
        return 1;
    }
    sealcam_device_set_notice_callback(dev, on_notice, NULL);
    int status = 0;
    const char *cmd = argv[2];

    if (strcmp(cmd, "pair") == 0 && argc == 4) {
        r = sealcam_device_pair(dev, argv[3]);
        if (r == SEALCAM_OK) {
            char id[SEALCAM_ID_LEN];
            sealcam_device_camera_id(dev, id, sizeof id);
            printf("%s\n", id);
        } else {
            report(dev, "pair", r);
            status = 1;
        }
    } else if (strcmp(cmd, "sync") == 0) {
        uint64_t epoch = 0;
        r = sealcam_device_sync(dev, &epoch);
        if (r == SEALCAM_OK) {
            printf("epoch %llu\n", (unsigned long long)epoch);
        } else {
            report(dev, "sync", r);
            status = 1;
        }
    } else if (strcmp(cmd, "record") == 0 && argc == 6) {
        size_t thumb_len = 0;
        unsigned char *thumb = read_file(argv[3], &thumb_len);
        FILE *clip = fopen(argv[4], "rb");
        if (!thumb || !clip) {
            fprintf(stderr, "camera: cannot read %s or %s\n", argv[3], argv[4]);
            free(thumb);
            if (clip) {
                fclose(clip);
            }
            sealcam_device_free(dev);
            return 1;
        }
        r = sealcam_device_sync(dev, NULL);
        if (r != SEALCAM_OK && r != SEALCAM_RECIPIENT_SET_REFUSED) {
            report(dev, "sync", r); /* offline: seal to the last good set */
        }
        sealcam_event event;
        memset(&event, 0, sizeof event);
        event.thumbnail = thumb;
        event.thumbnail_len = thumb_len;
        event.clip_read = read_clip;
        event.clip_userdata = clip;
        event.record_json = argv[5];
        sealcam_record_report rep;
        memset(&rep, 0, sizeof rep);
        r = sealcam_device_record(dev, &event, &rep);
        if (r == SEALCAM_OK) {
            printf("%s\n", rep.event_id);
            fprintf(stderr, "camera: epoch %llu, uploaded %u, spooled %u, lost %u\n",
                    (unsigned long long)rep.epoch, rep.uploaded, rep.spooled, rep.lost);
        } else {
            report(dev, "record", r);
            status = 1;
        }
        free(thumb);
        fclose(clip);
    } else if (strcmp(cmd, "drain") == 0) {
        sealcam_drain_report rep;
        memset(&rep, 0, sizeof rep);
        r = sealcam_device_drain(dev, 30000, &rep);
        fprintf(stderr, "camera: delivered %llu, remaining %llu\n",
                (unsigned long long)rep.delivered, (unsigned long long)rep.remaining);
        if (r != SEALCAM_OK) {
            report(dev, "drain", r);
            status = 1;
        }
    } else {
        fprintf(stderr, "camera: unknown command %s\n", cmd);
        status = 2;
    }
    sealcam_device_free(dev);
    return status;
}
