// Linux's sockaddr_un.sun_path holds 108 bytes including the terminating NUL. Longer paths are not
// always refused: some libuv versions truncate them and connect to another path. Every room that
// listens on or connects to a unix socket checks against this one number.
export const MAX_UNIX_PATH_BYTES = 107;
