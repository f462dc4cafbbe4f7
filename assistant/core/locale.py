"""The language of a request: the pages' from the browser or the switch in the header, the API's
always the default (an integrating system's payloads and error messages do not change with its
Accept-Language)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware import locale
from django.utils import translation

API_PREFIX = "/api/"


class LocaleMiddleware(locale.LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith(API_PREFIX):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return
        super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path.startswith(API_PREFIX):
            return response
        return super().process_response(request, response)
