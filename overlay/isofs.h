/* libisofs keeps process-wide state (its message queue, the local character set, the xinfo
 * cloners): one initialization per process, shared by every user — the ISO exporter
 * (exporters/iso.c) and du's ISO reader (inspect/iso_read.c). See libisofs.h, iso_init(). */
#ifndef RF_ISOFS_H
#define RF_ISOFS_H

/* Initialize libisofs once (thread-safe; later calls return the first result): the library
 * never prints (messages are read back with iso_error_to_msg), guest names are UTF-8 whatever
 * the caller's locale is, and iso_finish() runs at exit. Returns 0, or the negative libisofs
 * error code of iso_init() (text: iso_error_to_msg). */
int rf_isofs_init(void);

#endif
