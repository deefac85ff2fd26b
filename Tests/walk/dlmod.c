/*
 * dlmod.c - a tiny module that the image-list test dlopens and dlcloses.
 *
 * Context: test code (normal context).
 */
int walk_dlmod_value(void);
int walk_dlmod_value(void) { return 42; }
