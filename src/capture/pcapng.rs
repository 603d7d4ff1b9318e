//! A small pcapng writer: section header, interface descriptions, enhanced
//! packet blocks with optional comments (shown by Wireshark as frame.comment).
