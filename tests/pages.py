"""Reading pages the test client fetched: the Frames tab streams its body (viewer/streaming.py)."""


def html(response) -> str:
    """The page's HTML, whether it was streamed or not."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode()
