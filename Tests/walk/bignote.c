/*
 * bignote.c - a note segment larger than the crash path reads in one go
 * (images.c NOTES_LOCAL, 512 bytes): a 700-byte vendor note in front of
 * the build-id, so that test_images checks the note-at-a-time fallback
 * against readelf.
 */
__asm__(".section .note.mayday.pad,\"a\",@note\n"
        ".balign 4\n"
        ".long 7, 700, 0x4d44\n" /* namesz, descsz, type */
        ".asciz \"MAYDAY\"\n"
        ".balign 4\n"
        ".fill 700, 1, 0xab\n"
        ".previous\n");

int walk_bignote_value(void) { return 7; }
