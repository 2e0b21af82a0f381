/* main.c - bldd entry point (placeholder). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "bldd: not implemented yet\n");
	return 2;
}
