package io.herald;

/** An error answered by Herald's HTTP API: {@link #code()} is Herald's error code, {@link #status()} the HTTP status. */
public final class HeraldException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int code;
    private final int status;
    private final String heraldMessage;

    public HeraldException(int code, String message, int status) {
        super("herald error " + code + " (HTTP " + status + "): " + message);
        this.code = code;
        this.status = status;
        this.heraldMessage = message;
    }

    /** Herald's error code, such as 104 (invalid body), 111 (no target) or 101 (bad API key); 0 when the reply had none. */
    public int code() {
        return code;
    }

    /** The HTTP status of the reply. */
    public int status() {
        return status;
    }

    /** Herald's message alone, without the code and status that {@link #getMessage()} adds. */
    public String heraldMessage() {
        return heraldMessage;
    }
}
