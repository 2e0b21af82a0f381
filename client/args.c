typedef int args_placeholder;
