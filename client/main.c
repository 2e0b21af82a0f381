/* main.c - bld entry point (placeholder). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "bld: not implemented yet\n");
	return 2;
}
