"""Any OpenAI-compatible chat-completions server: vLLM, Ollama, TGI or a hosted API.

Numbered sources and an instruction to cite go in the prompt; the answer streams back as
server-sent events. A request that fails before its first token is retried with backoff;
one that fails after cannot be retried without repeating text, so it ends the answer with
GenerationUnavailable, as does a server that never answers.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from assistant.core.privacy import Masker
from assistant.generation.base import Completion, GenerationUnavailable, Prompt, prompt_text

logger = logging.getLogger("finassist.generation")

_RETRYABLE = {408, 429, 500, 502, 503, 504}


class _Retry(Exception):
    pass


@dataclass
class OpenAICompatible:
    base_url: str
    model: str
    api_key: str
    timeout: float
    retries: int
    max_tokens: int
    mask: bool
    name: str = "openai"

    @property
    def model_name(self) -> str:
        return self.model

    @classmethod
    def from_settings(cls) -> OpenAICompatible:
        if not settings.OPENAI_MODEL:
            raise GenerationUnavailable(
                "FINASSIST_OPENAI_MODEL is not set: which model should the server run?"
            )
        return cls(
            base_url=settings.OPENAI_BASE_URL.rstrip("/"),
            model=settings.OPENAI_MODEL,
            api_key=settings.OPENAI_API_KEY or "",
            timeout=settings.GENERATION_TIMEOUT,
            retries=settings.GENERATION_RETRIES,
            max_tokens=settings.GENERATION_MAX_TOKENS,
            mask=settings.GENERATION_MASK_IDENTIFIERS,
        )

    def stream(self, prompt: Prompt, *, masker: Masker | None = None) -> Generator[str, None, None]:
        if not self.mask:
            masker = None
        elif masker is None:
            masker = Masker()
        content = prompt_text(prompt)
        body = {
            "model": self.model,
            "stream": True,
            "max_tokens": self.max_tokens,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": prompt.instruction},
                {"role": "user", "content": masker.mask(content) if masker else content},
            ],
        }
        pieces = self._pieces(body)
        yield from masker.unmask_stream(pieces) if masker else pieces

    def complete(self, messages: Sequence[dict[str, str]], *, max_tokens: int) -> Completion:
        """The whole reply (not streamed), with the server's token counts and, where it gives
        them, the reply's log-probabilities."""
        body = {
            "model": self.model,
            "max_tokens": max_tokens,
            "temperature": 0,
            "logprobs": True,
            "messages": list(messages),
        }
        started = time.perf_counter()
        reply = self._reply(body)
        choice = (reply.get("choices") or [{}])[0]
        usage = reply.get("usage") or {}
        logprobs = [t.get("logprob", 0.0) for t in ((choice.get("logprobs") or {}).get("content") or [])]
        return Completion(
            text=str((choice.get("message") or {}).get("content") or "").strip(),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            seconds=time.perf_counter() - started,
            probability=math.exp(sum(logprobs)) if logprobs else None,
        )

    @property
    def _url(self) -> str:
        return f"{self.base_url}/chat/completions"

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _checked(self, response: httpx.Response) -> None:
        """Retry a busy or failing server; refuse on any other answer that is not 200."""
        if response.status_code in _RETRYABLE:
            raise _Retry(f"answered HTTP {response.status_code}")
        if response.status_code != 200:
            response.read()
            raise GenerationUnavailable(
                f"the generation server at {self.base_url} refused the request "
                f"(HTTP {response.status_code}): {response.text[:200]}"
            )

    def _failed(self, error: Exception, attempt: int, *, final: bool) -> None:
        """Give up with GenerationUnavailable when `final`, else wait before the next attempt."""
        reason = (
            "timed out" if isinstance(error, httpx.TimeoutException) else str(error) or type(error).__name__
        )
        if final:
            raise GenerationUnavailable(
                f"the generation server at {self.base_url} is not answering ({reason}); "
                "try again later or ask an administrator"
            ) from error
        logger.warning("generation attempt %d failed (%s); retrying", attempt + 1, reason)
        time.sleep(min(0.5 * 2**attempt, 4.0))

    def _reply(self, body: dict[str, object]) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                response = httpx.post(self._url, json=body, headers=self._headers, timeout=self.timeout)
                self._checked(response)
                reply: dict[str, Any] = response.json()
                return reply
            except (httpx.TransportError, _Retry, json.JSONDecodeError) as error:
                self._failed(error, attempt, final=attempt == self.retries)
            attempt += 1

    def _pieces(self, body: dict[str, object]) -> Iterator[str]:
        for attempt in range(self.retries + 1):
            started = False
            try:
                with (
                    httpx.Client(timeout=self.timeout) as client,
                    client.stream("POST", self._url, json=body, headers=self._headers) as response,
                ):
                    self._checked(response)
                    for piece in _events(response.iter_lines()):
                        started = True
                        yield piece
                return
            except (httpx.TransportError, _Retry) as error:
                self._failed(error, attempt, final=started or attempt == self.retries)


def _events(lines: Iterator[str]) -> Iterator[str]:
    """The text of each chat-completion chunk in a server-sent event stream."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            choices = json.loads(data).get("choices") or [{}]
        except json.JSONDecodeError as error:
            raise GenerationUnavailable(
                f"the generation server sent an unreadable event: {data[:80]}"
            ) from error
        text = (choices[0].get("delta") or {}).get("content")
        if text:
            yield text
