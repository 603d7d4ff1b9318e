//! What a TLS flow shows in clear: versions offered and chosen, SNI, whether
//! the server asked for a client certificate and whether one was sent (TLS
//! 1.2), alerts, who closed; encrypted records are counted, not guessed at.
