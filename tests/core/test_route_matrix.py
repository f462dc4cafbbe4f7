"""Who may reach what: every route of the URL configuration, asked by each persona, against a table.

A route with no row, a row with a cell missing, or an answer other than the table's fails, with the
row as the route answers now (to check, then copy). A row's key is the route's name, or the name and
`@variant` for another object than the persona's own (`@other`) or one that does not exist
(`@missing`). The admin's ModelAdmin pages are one family: each model's changelist has a row and its
add page answers as the persona's permission on the model says.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpResponseBase
from django.test import Client as WebClient
from django.test import RequestFactory, override_settings
from django.urls import reverse

from advisory.models import Answer, Citation
from advisory.models import Client as AdvisoryClient
from aml.models import Account, Alert, Case, Customer, Screening, ScreeningBatch
from assistant.chat.models import Conversation, Message
from assistant.core import roles
from assistant.integrations.keys import SCOPES, api_key_issue, token_issue
from assistant.integrations.models import System
from assistant.knowledge.models import Document
from assistant.knowledge.services.submission import collection_get_or_create
from assistant.training.models import ModelVersion
from assistant.training.registry import tasks
from claims.models import Claim, ClaimReport, Policy
from lab.models import Study
from tests.support.routes import Route, routes, row_line, table

MISSING = 2_147_483_000  # an id no row has
KEY_WIDTH = 46

# The personas, one a column: anon is signed out; adv, claim, aml, know, ml and supp are signed in with
# one role each (advisor, claims adjuster, AML analyst, knowledge manager, ML engineer, support agent);
# staff is staff with no role; super a superuser; token the advisor's personal API token (no session);
# key an integrating system's API key with every scope. A GET of each route:
GET = """
route                                         anon  adv   claim aml   know  ml    supp  staff super token key
admin/(?P<url>.*)$                            302   302   302   302   404   404   404   404   404   302   302
admin:advisory_answer_changelist              302   302   302   302   403   403   403   403   200   302   302
admin:advisory_client_changelist              302   302   302   302   403   403   403   403   200   302   302
admin:advisory_letter_changelist              302   302   302   302   403   403   403   403   200   302   302
admin:aml_account_changelist                  302   302   302   302   403   403   403   403   200   302   302
admin:aml_auditevent_changelist               302   302   302   302   403   403   403   403   200   302   302
admin:aml_customer_changelist                 302   302   302   302   403   403   403   403   200   302   302
admin:aml_riskcalibration_changelist          302   302   302   302   403   403   403   403   200   302   302
admin:aml_rule_changelist                     302   302   302   302   403   403   403   403   200   302   302
admin:aml_screening_changelist                302   302   302   302   403   403   403   403   200   302   302
admin:aml_screeningbatch_changelist           302   302   302   302   403   403   403   403   200   302   302
admin:aml_transaction_changelist              302   302   302   302   403   403   403   403   200   302   302
admin:app_list                                302   302   302   302   404   404   404   404   200   302   302
admin:auth_group_changelist                   302   302   302   302   403   403   403   403   200   302   302
admin:auth_user_add                           302   302   302   302   403   403   403   403   200   302   302
admin:auth_user_changelist                    302   302   302   302   403   403   403   403   200   302   302
admin:auth_user_password_change               302   302   302   302   403   403   403   403   200   302   302
admin:autocomplete                            302   302   302   302   403   403   403   403   403   302   302
admin:chat_conversation_changelist            302   302   302   302   403   403   200   403   200   302   302
admin:chat_intentroute_changelist             302   302   302   302   403   403   200   403   200   302   302
admin:chat_ticket_changelist                  302   302   302   302   403   403   200   403   200   302   302
admin:claims_claim_changelist                 302   302   302   302   403   403   403   403   200   302   302
admin:claims_decision_changelist              302   302   302   302   403   403   403   403   200   302   302
admin:claims_fraudcalibration_changelist      302   302   302   302   403   403   403   403   200   302   302
admin:claims_policy_changelist                302   302   302   302   403   403   403   403   200   302   302
admin:index                                   302   302   302   302   200   200   200   200   200   302   302
admin:integrations_apikey_changelist          302   302   302   302   403   403   403   403   200   302   302
admin:integrations_personaltoken_changelist   302   302   302   302   403   403   403   403   200   302   302
admin:integrations_system_changelist          302   302   302   302   403   403   403   403   200   302   302
admin:integrations_webhookdelivery_changelist 302   302   302   302   403   403   403   403   200   302   302
admin:jsi18n                                  302   302   302   302   200   200   200   200   200   302   302
admin:knowledge_chunk_changelist              302   302   302   302   200   403   403   403   200   302   302
admin:knowledge_collection_changelist         302   302   302   302   200   403   403   403   200   302   302
admin:knowledge_collection_upload             302   302   302   302   200   403   403   403   200   302   302
admin:knowledge_document_changelist           302   302   302   302   200   403   403   403   200   302   302
admin:knowledge_document_replace              302   302   302   302   200   403   403   403   200   302   302
admin:knowledge_try_query                     302   302   302   302   200   200   200   200   200   302   302
admin:knowledge_upload_changelist             302   302   302   302   200   403   403   403   200   302   302
admin:lab_study_changelist                    302   302   302   302   403   200   403   403   200   302   302
admin:login                                   200   200   200   200   302   302   302   302   302   200   200
admin:logout                                  302   302   302   302   405   405   405   405   405   302   302
admin:password_change                         302   302   302   302   200   200   200   200   200   302   302
admin:password_change_done                    302   302   302   302   200   200   200   200   200   302   302
admin:training_driftaudit_changelist          302   302   302   302   403   200   403   403   200   302   302
admin:training_examples_add                   302   302   302   302   403   200   403   403   200   302   302
admin:training_modelversion_changelist        302   302   302   302   403   200   403   403   200   302   302
admin:training_task                           302   302   302   302   403   200   403   403   200   302   302
admin:training_taskdefinition_add             302   302   302   302   403   200   403   403   200   302   302
admin:training_taskdefinition_changelist      302   302   302   302   403   200   403   403   200   302   302
admin:training_train                          302   302   302   302   403   200   403   403   200   302   302
admin:training_trainingrun_changelist         302   302   302   302   403   200   403   403   200   302   302
admin:view_on_site                            302   302   302   302   404   404   404   404   404   302   302
advisory-api-answer                           401   200   403   403   403   403   403   403   404   200   401
advisory-api-answer-feedback                  401   405   403   403   403   403   403   403   405   405   401
advisory-api-answer@other                     401   404   403   403   403   403   403   403   404   404   401
advisory-api-answers                          401   405   403   403   403   403   403   403   405   405   401
advisory-api-client                           401   200   403   403   403   403   403   403   404   200   401
advisory-api-client-export                    401   200   403   403   403   403   403   403   404   200   401
advisory-api-client-export@other              401   404   403   403   403   403   403   403   404   404   401
advisory-api-client@other                     401   404   403   403   403   403   403   403   404   404   401
advisory-api-clients                          401   200   403   403   403   403   403   403   200   200   401
advisory:answer                               302   200   403   403   403   403   403   403   404   302   302
advisory:answer-create                        302   405   403   403   403   403   403   403   405   302   302
advisory:answer-feedback                      302   405   403   403   403   403   403   403   405   302   302
advisory:answer@other                         302   404   403   403   403   403   403   403   404   302   302
advisory:ask                                  302   200   403   403   403   403   403   403   200   302   302
advisory:citation                             302   200   403   403   403   403   403   403   404   302   302
advisory:citation@other                       302   404   403   403   403   403   403   403   404   302   302
advisory:client                               302   200   403   403   403   403   403   403   404   302   302
advisory:client-export                        302   200   403   403   403   403   403   403   404   302   302
advisory:client-export@other                  302   404   403   403   403   403   403   403   404   302   302
advisory:client@missing                       302   404   403   403   403   403   403   403   404   302   302
advisory:client@other                         302   404   403   403   403   403   403   403   404   302   302
advisory:clients                              302   200   403   403   403   403   403   403   200   302   302
aml-api:batch                                 401   401   401   401   401   401   401   401   401   401   405
aml-api:batch-detail                          401   401   401   401   401   401   401   401   401   401   200
aml-api:screen                                401   401   401   401   401   401   401   401   401   401   405
aml-api:screening                             401   401   401   401   401   401   401   401   401   401   200
aml-api:screening@missing                     401   401   401   401   401   401   401   401   401   401   404
aml:ask                                       302   403   403   405   403   403   403   403   405   302   302
aml:attach                                    302   403   403   405   403   403   403   403   405   302   302
aml:attachment                                302   403   403   200   403   403   403   403   200   302   302
aml:attachment@missing                        302   403   403   404   403   403   403   403   404   302   302
aml:case                                      302   403   403   200   403   403   403   403   200   302   302
aml:case@missing                              302   403   403   404   403   403   403   403   404   302   302
aml:decide                                    302   403   403   405   403   403   403   403   405   302   302
aml:note                                      302   403   403   405   403   403   403   403   405   302   302
aml:queue                                     302   403   403   200   403   403   403   403   200   302   302
aml:sar                                       302   403   403   404   403   403   403   403   404   302   302
aml:take                                      302   403   403   405   403   403   403   403   405   302   302
api-docs                                      401   200   200   200   200   200   200   200   200   200   200
api-schema                                    401   200   200   200   200   200   200   200   200   200   200
chat-api-conversation                         404   200   404   404   404   404   404   404   404   200   404
chat-api-conversation@missing                 404   404   404   404   404   404   404   404   404   404   404
chat-api-conversations                        405   405   405   405   405   405   405   405   405   405   405
chat-api-feedback                             405   405   405   405   405   405   405   405   405   405   405
chat-api-messages                             405   405   405   405   405   405   405   405   405   405   405
chat:chat                                     200   200   200   200   200   200   200   200   200   200   200
chat:message-create                           405   405   405   405   405   405   405   405   405   405   405
chat:message-feedback                         405   405   405   405   405   405   405   405   405   405   405
chat:new                                      405   405   405   405   405   405   405   405   405   405   405
chat:staff                                    302   403   403   403   403   403   200   403   200   302   302
claims-api:batch                              401   401   401   401   401   401   401   401   401   401   405
claims-api:detail                             401   401   401   401   401   401   401   401   401   401   200
claims-api:detail@missing                     401   401   401   401   401   401   401   401   401   401   404
claims-api:detail@other                       401   401   401   401   401   401   401   401   401   401   404
claims-api:report                             401   401   401   401   401   401   401   401   401   401   200
claims-api:report-pdf                         401   401   401   401   401   401   401   401   401   401   200
claims-api:report-pdf@other                   401   401   401   401   401   401   401   401   401   401   404
claims-api:report@other                       401   401   401   401   401   401   401   401   401   401   404
claims-api:submit                             401   401   401   401   401   401   401   401   401   401   200
claims:claim                                  302   403   200   403   403   403   403   403   200   302   302
claims:claim@missing                          302   403   404   403   403   403   403   403   404   302   302
claims:models                                 302   403   200   403   403   403   403   403   200   302   302
claims:queue                                  302   403   200   403   403   403   403   403   200   302   302
claims:report                                 302   403   200   403   403   403   403   403   200   302   302
claims:report-pdf                             302   403   200   403   403   403   403   403   200   302   302
favicon                                       301   301   301   301   301   301   301   301   301   301   301
healthz                                       200   200   200   200   200   200   200   200   200   200   200
home                                          200   200   200   200   200   200   200   200   200   200   200
knowledge:search                              401   405   405   405   405   405   405   405   405   405   401
landing                                       302   302   302   302   302   302   302   302   302   302   302
lab-api:action                                401   403   403   403   403   405   403   403   405   403   401
lab-api:answers                               401   403   403   403   403   405   403   403   405   403   401
lab-api:studies                               401   403   403   403   403   200   403   403   200   403   401
lab-api:study                                 401   403   403   403   403   200   403   403   200   403   401
lab-api:study@missing                         401   403   403   403   403   404   403   403   404   403   401
lab:adopt                                     405   405   405   405   405   405   405   405   405   405   405
lab:answers                                   405   405   405   405   405   405   405   405   405   405   405
lab:cancel                                    405   405   405   405   405   405   405   405   405   405   405
lab:export-md                                 302   403   403   403   403   200   403   403   200   302   302
lab:export-pdf                                302   403   403   403   403   200   403   403   200   302   302
lab:index                                     302   403   403   403   403   200   403   403   200   302   302
lab:study                                     302   403   403   403   403   200   403   403   200   302   302
lab:study@missing                             302   403   403   403   403   404   403   403   404   302   302
login                                         200   302   302   302   302   302   302   302   302   200   200
logout                                        405   405   405   405   405   405   405   405   405   405   405
readyz                                        200   200   200   200   200   200   200   200   200   200   200
set_language                                  302   302   302   302   302   302   302   302   302   302   302
training:examples-add                         401   403   403   403   403   405   403   403   405   403   401
training:task-create                          401   403   403   403   403   405   403   403   405   403   401
"""

# Unsafe methods: a POST of a form, empty or as BODIES gives (to reach past validation to the object).
# A route with no row here must refuse POST to whoever may GET it.
POST = """
route                                         anon  adv   claim aml   know  ml    supp  staff super token key
advisory-api-answer-feedback                  401   200   403   403   403   403   403   403   404   200   401
advisory-api-answer-feedback@other            401   404   403   403   403   403   403   403   404   404   401
advisory-api-answers                          401   400   403   403   403   403   403   403   400   400   401
advisory:answer-create                        302   400   403   403   403   403   403   403   400   302   302
advisory:answer-feedback                      302   200   403   403   403   403   403   403   404   302   302
advisory:answer-feedback@other                302   404   403   403   403   403   403   403   404   302   302
aml-api:batch                                 401   401   401   401   401   401   401   401   401   401   400
aml-api:batch-detail                          401   401   401   401   401   401   401   401   401   401   405
aml-api:screen                                401   401   401   401   401   401   401   401   401   401   400
aml-api:screening                             401   401   401   401   401   401   401   401   401   401   405
aml:ask                                       302   403   403   400   403   403   403   403   400   302   302
aml:attach                                    302   403   403   400   403   403   403   403   400   302   302
aml:decide                                    302   403   403   400   403   403   403   403   400   302   302
aml:sar                                       302   403   403   400   403   403   403   403   400   302   302
aml:note                                      302   403   403   400   403   403   403   403   400   302   302
aml:take                                      302   403   403   302   403   403   403   403   302   302   302
chat-api-conversations                        201   201   201   201   201   201   201   201   201   201   201
chat-api-feedback                             404   200   404   404   404   404   404   404   404   200   404
chat-api-messages                             404   400   404   404   404   404   404   404   404   400   404
chat-api-messages@missing                     404   404   404   404   404   404   404   404   404   404   404
chat:message-create                           400   400   400   400   400   400   400   400   400   400   400
chat:message-feedback                         404   200   404   404   404   404   404   404   404   404   404
chat:new                                      302   302   302   302   302   302   302   302   302   302   302
claims-api:batch                              401   401   401   401   401   401   401   401   401   401   400
claims-api:detail                             401   401   401   401   401   401   401   401   401   401   405
claims-api:report                             401   401   401   401   401   401   401   401   401   401   405
claims-api:report-pdf                         401   401   401   401   401   401   401   401   401   401   405
claims-api:submit                             401   401   401   401   401   401   401   401   401   401   400
claims:claim                                  302   403   400   403   403   403   403   403   400   302   302
claims:claim@missing                          302   403   404   403   403   403   403   403   404   302   302
claims:models                                 302   403   405   403   403   403   403   403   405   302   302
claims:queue                                  302   403   405   403   403   403   403   403   405   302   302
claims:report                                 302   403   405   403   403   403   403   403   405   302   302
claims:report-pdf                             302   403   405   403   403   403   403   403   405   302   302
knowledge:search                              401   400   400   400   400   400   400   400   400   400   401
lab-api:action                                401   403   403   403   403   200   403   403   200   403   401
lab-api:answers                               401   403   403   403   403   200   403   403   200   403   401
lab-api:studies                               401   403   403   403   403   400   403   403   400   403   401
lab:adopt                                     302   403   403   403   403   400   403   403   400   302   302
lab:answers                                   302   403   403   403   403   302   403   403   302   302   302
lab:cancel                                    302   403   403   403   403   302   403   403   302   302   302
lab:index                                     302   403   403   403   403   400   403   403   400   302   302
login                                         200   302   302   302   302   302   302   302   302   200   200
logout                                        302   302   302   302   302   302   302   302   302   302   302
set_language                                  302   302   302   302   302   302   302   302   302   302   302
training:examples-add                         401   403   403   403   403   400   403   403   400   403   401
training:task-create                          401   403   403   403   403   400   403   403   400   403   401
"""

BODIES = {
    route: {"rating": "1"}
    for route in (
        "advisory:answer-feedback",
        "advisory-api-answer-feedback",
        "chat:message-feedback",
        "chat-api-feedback",
    )
}

PERSONAS, GET_ROWS = table(GET)
_, POST_ROWS = table(POST)
SIGNED_OUT = frozenset({"anon", "token", "key"})  # no session: a page sends them to sign in
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
REFUSED = frozenset({401, 403, 405})
# Where a route may send a signed-out persona other than to sign in.
ELSEWHERE = {
    "admin:logout": "/admin/",  # Django's admin: signing out unsigned goes to its index (then to sign in)
    "chat:new": "/chat/",  # customers chat without signing in
    "set_language": "/",  # anyone chooses the language; with no page named, back to the start page
}
ROUTES = {route.name: route for route in routes()}
ROW_ROUTES = sorted(name for name, route in ROUTES.items() if not route.admin_generated)
ADMIN_ADD_PAGES = sorted(
    name for name, route in ROUTES.items() if route.admin_generated and name.endswith("_add")
)


@dataclass
class World:
    users: dict[str, User]
    sessions: dict[str, str]  # persona -> session key
    headers: dict[str, dict[str, str]]  # persona -> request headers
    kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)  # row key -> URL kwargs
    paths: dict[str, str] = field(default_factory=dict)  # row key of an unnamed route -> its address

    def client(self, persona: str) -> WebClient:
        # Each persona asks from an address of its own, as separate parties do (throttles count by address).
        address = f"192.0.2.{PERSONAS.index(persona) + 1}"
        client = WebClient(headers=self.headers.get(persona, {}), REMOTE_ADDR=address)
        if persona in self.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[persona]
        return client

    def url(self, key: str) -> str:
        if key in self.paths:
            return self.paths[key]
        return reverse(key.partition("@")[0], kwargs=self.kwargs.get(key, {}))


def _user(username: str, *, role: str | None = None, **flags: bool) -> User:
    user = User.objects.create(username=username, **flags)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


def _advisory(world: World, alice: User, bob: User) -> None:
    clients = {
        advisor.username: AdvisoryClient.objects.create(
            advisor=advisor,
            reference=f"ADV-{advisor.username}",
            full_name=f"Client of {advisor.username}",
            birth_year=1968,
            income_band="100k_250k",
            risk_tolerance="moderate",
            horizon_years=6,
        )
        for advisor in (alice, bob)
    }
    answers = {
        name: Answer.objects.create(
            advisor=client.advisor,
            client=client,
            scope=Answer.Scope.CLIENT,
            question="What fits?",
            text="[1]",
        )
        for name, client in clients.items()
    }
    Citation.objects.create(answer=answers["alice"], number=1, title="Bond fund", text="A fund.", score=1.0)
    for variant, name in (("", "alice"), ("@other", "bob")):
        for route in (
            "advisory:client",
            "advisory:client-export",
            "advisory-api-client",
            "advisory-api-client-export",
        ):
            world.kwargs[route + variant] = {"client_id": clients[name].pk}
        for route in (
            "advisory:answer",
            "advisory:answer-feedback",
            "advisory-api-answer",
            "advisory-api-answer-feedback",
        ):
            world.kwargs[route + variant] = {"answer_id": answers[name].pk}
        world.kwargs["advisory:citation" + variant] = {"answer_id": answers[name].pk, "number": 1}
    world.kwargs["advisory:client@missing"] = {"client_id": MISSING}
    world.kwargs["admin:view_on_site"] = {
        "content_type_id": ContentType.objects.get_for_model(AdvisoryClient).pk,
        "object_id": clients["alice"].pk,
    }


def _chat(world: World, alice: User) -> None:
    conversation = Conversation.objects.create(user=alice)
    Message.objects.create(conversation=conversation, role=Message.Role.CUSTOMER, text="What is an ISA?")
    reply = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        kind=Message.Kind.ANSWER,
        text="A savings account.",
    )
    for route in ("chat:message-feedback", "chat-api-feedback"):
        world.kwargs[route] = {"message_id": reply.pk}
    for route in ("chat-api-conversation", "chat-api-messages"):
        world.kwargs[route] = {"conversation": str(conversation.public_id)}
    for route in ("chat-api-conversation@missing", "chat-api-messages@missing"):
        world.kwargs[route] = {"conversation": "00000000-0000-0000-0000-000000000000"}


def _claims(world: World, system: System) -> None:
    policy = Policy.objects.create(
        number="POL-1",
        holder_name="Holder",
        line_of_business="property",
        effective_from=date(2026, 1, 1),
        effective_to=date(2027, 1, 1),
        limit=Decimal("50000"),
    )
    other_system = System.objects.create(name="other-claims")
    claims = {
        owner.name: Claim.objects.create(
            system=owner,
            external_id="C-1",
            policy=policy,
            loss_date=date(2026, 5, 1),
            reported_date=date(2026, 5, 2),
            amount_claimed=Decimal("1200"),
            currency="USD",
            description="Water damage in the kitchen.",
            status=Claim.Status.COMPLETE,
        )
        for owner in (system, other_system)
    }
    for claim in claims.values():
        ClaimReport.objects.create(claim=claim, html="<h1>Report</h1>")
    for variant, owner in (("", system.name), ("@other", other_system.name)):
        for route in ("claims-api:detail", "claims-api:report", "claims-api:report-pdf"):
            world.kwargs[route + variant] = {"claim_id": claims[owner].pk}
    for route in ("claims:claim", "claims:report", "claims:report-pdf"):  # adjusters see every system's
        world.kwargs[route] = {"claim_id": claims[system.name].pk}
    world.kwargs["claims:claim@missing"] = world.kwargs["claims-api:detail@missing"] = {"claim_id": MISSING}


def _aml(world: World, system: System, analyst: User) -> None:
    customer = Customer.objects.create(
        reference="CUS-1", name="Customer One", kind="individual", country="GB", onboarded_on=date(2024, 1, 1)
    )
    Account.objects.create(
        customer=customer, number="ACC-1", currency="EUR", opened_on=date(2024, 1, 2), kind="current"
    )
    screening = Screening.objects.create(
        subject_kind=Screening.SubjectKind.DOCUMENT,
        document_name="invoice.txt",
        document_text="Pay in cash in several amounts under ten thousand.",
        customer=customer,
        system=system,
        typology="structuring",
        risk=0.8,
    )
    alert = Alert.objects.create(
        screening=screening, customer=customer, risk=0.8, status=Alert.Status.IN_PROGRESS, assignee=analyst
    )
    path = default_storage.save("aml/attachments/note.txt", ContentFile(b"a note"))
    case = Case.objects.create(
        alert=alert,
        assignee=analyst,
        attachments=[
            {
                "name": "note.txt",
                "content_type": "text/plain",
                "size": 6,
                "sha256": "0" * 64,
                "path": path,
                "uploaded_by": analyst.username,
                "uploaded_at": datetime(2026, 6, 1, tzinfo=UTC).isoformat(),
            }
        ],
    )
    batch = ScreeningBatch.objects.create(system=system, total=1)
    for route in ("aml:case", "aml:note", "aml:attach", "aml:ask", "aml:decide", "aml:sar"):
        world.kwargs[route] = {"case_id": case.pk}
    world.kwargs["aml:case@missing"] = {"case_id": MISSING}
    world.kwargs["aml:attachment"] = {"case_id": case.pk, "index": 0}
    world.kwargs["aml:attachment@missing"] = {"case_id": case.pk, "index": 1}
    world.kwargs["aml-api:batch-detail"] = {"batch_id": batch.pk}
    world.kwargs["aml-api:screening"] = {"screening_id": screening.pk}
    world.kwargs["aml-api:screening@missing"] = {"screening_id": MISSING}


def _training_and_lab(world: World, engineer: User) -> None:
    task = tasks()[0].name
    version = ModelVersion.objects.create(
        task=task,
        base_model="knn",
        method="knn",
        config={},
        labels=["a", "b"],
        library_versions={},
        dataset_hash="0" * 64,
        metrics={},
        abstain_threshold=0.0,
        drift_reference={},
        artefact_path="/nonexistent",
        artefact_checksum="0" * 64,
        format_version=1,
    )
    study = Study.objects.create(
        task=task, techniques=["knn"], test_share=0.2, curve_sizes=[8], created_by=engineer
    )
    for route in ("training:examples-add", "admin:training_examples_add"):
        world.kwargs[route] = {"version_id": version.pk}
    world.kwargs["admin:training_task"] = {"task": task}
    for route in (
        "lab:study", "lab:answers", "lab:cancel", "lab:adopt", "lab:export-md", "lab:export-pdf",
        "lab-api:study", "lab-api:answers",
    ):  # fmt: skip
        world.kwargs[route] = {"study_id": study.pk}
    world.kwargs["lab:study@missing"] = world.kwargs["lab-api:study@missing"] = {"study_id": MISSING}
    world.kwargs["lab-api:action"] = {"study_id": study.pk, "action": "cancel"}


def _knowledge(world: World) -> None:
    collection = collection_get_or_create(name="products")
    document = Document.objects.create(
        collection=collection,
        external_id="fund.md",
        title="Fund",
        content={"text": "A fund."},
        checksum="0" * 64,
    )
    world.kwargs["admin:knowledge_collection_upload"] = {"collection_id": collection.pk}
    world.kwargs["admin:knowledge_document_replace"] = {"document_id": document.pk}


def _world_create() -> World:
    users = {
        "adv": _user("alice", role=roles.ADVISOR),
        "claim": _user("cal", role=roles.CLAIMS_ADJUSTER),
        "aml": _user("ana", role=roles.AML_ANALYST),
        "know": _user("kim", role=roles.KNOWLEDGE_MANAGER, is_staff=True),
        "ml": _user("max", role=roles.ML_ENGINEER, is_staff=True),
        "supp": _user("sue", role=roles.SUPPORT_AGENT, is_staff=True),
        "staff": _user("stan", is_staff=True),
        "super": _user("root", is_staff=True, is_superuser=True),
    }
    sessions = {}
    for persona, user in users.items():
        client = WebClient()
        client.force_login(user)
        sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    system = System.objects.create(name="core-banking")
    _, key = api_key_issue(system=system, name="test", scopes=list(SCOPES))
    headers = {
        "token": {"Authorization": f"Token {token_issue(users['adv'])}"},
        "key": {"Authorization": f"Bearer {key}"},
    }
    world = World(users, sessions, headers)
    assert {"anon", *users, *headers} == set(PERSONAS), "a persona of the tables has no user or credentials"
    _advisory(world, users["adv"], _user("bob", role=roles.ADVISOR))
    _chat(world, users["adv"])
    _claims(world, system)
    _aml(world, system, users["aml"])
    _training_and_lab(world, users["ml"])
    _knowledge(world)
    world.kwargs["admin:auth_user_password_change"] = {"id": users["adv"].pk}
    world.kwargs["admin:app_list"] = {"app_label": "advisory"}
    world.paths["admin/(?P<url>.*)$"] = "/admin/no-such-page/"
    return world


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any
) -> Iterator[World]:
    """The objects the routes name, made once for the module and rolled back after it."""
    with (
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield _world_create()
        transaction.set_rollback(True)


def _route(key: str) -> Route | None:
    return ROUTES.get(key.partition("@")[0])


def _post(world: World, persona: str, key: str) -> HttpResponseBase:
    return world.client(persona).post(world.url(key), BODIES.get(key.partition("@")[0], {}))


def _answers(world: World, key: str, method: str) -> list[HttpResponseBase]:
    if method == "POST":
        return [_post(world, persona, key) for persona in PERSONAS]
    return [world.client(persona).get(world.url(key)) for persona in PERSONAS]


def _problems(
    key: str, method: str, rows: dict[str, tuple[str, ...]], answers: list[HttpResponseBase]
) -> str:
    now = row_line(key, [response.status_code for response in answers], KEY_WIDTH)
    expected = rows.get(key)
    if expected is None:
        return f"{method} {key} has no row in the table; it answers now (check, then copy):\n{now}"
    problems = []
    if len(expected) != len(PERSONAS):
        problems.append(f"the row has {len(expected)} cells for the {len(PERSONAS)} personas {PERSONAS}")
    for persona, wanted, response in zip(PERSONAS, expected, answers, strict=False):
        status = response.status_code
        location = response.get("Location", "")
        if str(status) != wanted:
            problems.append(f"{persona}: {status}, the table says {wanted}")
        if status >= 500:
            problems.append(f"{persona}: a server error")
        allowed = (*LOGIN_PAGES, ELSEWHERE[key]) if key in ELSEWHERE else LOGIN_PAGES
        if status == 302 and persona in SIGNED_OUT and not location.startswith(allowed):
            problems.append(f"{persona}: sent to {location}, not to sign in")
    if not problems:
        return ""
    route = _route(key)
    where = route.pattern if route else "no such route"
    return f"{method} {key} ({where}):\n  " + "\n  ".join(problems) + f"\nit answers now:\n{now}"


def _takes_post(world: World, key: str) -> str:
    """A route with no POST row refuses POST to the superuser and to each persona that may read it."""
    readers = [
        persona for persona, cell in zip(PERSONAS, GET_ROWS[key], strict=False) if cell.startswith("2")
    ]
    for persona in dict.fromkeys(["super", *readers]):
        status = _post(world, persona, key).status_code
        if status not in REFUSED:
            return f"POST {key} answers {persona} {status}: it takes POST, so give it a row in POST"
    return ""


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    stale = sorted(key for key in {*GET_ROWS, *POST_ROWS} if _route(key) is None)
    unwritten = sorted(name for name in ROW_ROUTES if name not in GET_ROWS)
    uneven = sorted(
        key for rows in (GET_ROWS, POST_ROWS) for key, cells in rows.items() if len(cells) != len(PERSONAS)
    )

    assert not stale, f"rows for routes the URL configuration no longer has: {stale}"
    assert not unwritten, f"routes with no row in GET: {unwritten}"
    assert not uneven, f"rows without exactly a cell for each of the personas {PERSONAS}: {uneven}"


@pytest.mark.parametrize("key", sorted({*GET_ROWS, *POST_ROWS, *ROW_ROUTES}))
def test_each_persona_gets_what_the_table_says(key: str, world: World, db: None) -> None:
    problems = []
    if key in GET_ROWS or key not in POST_ROWS:
        problems.append(_problems(key, "GET", GET_ROWS, _answers(world, key, "GET")))
    if key in POST_ROWS:
        problems.append(_problems(key, "POST", POST_ROWS, _answers(world, key, "POST")))
    elif key in GET_ROWS and (route := _route(key)) is not None and not route.pattern.startswith("admin/"):
        problems.append(_takes_post(world, key))

    if any(problems):
        pytest.fail("\n".join(problem for problem in problems if problem), pytrace=False)


@pytest.mark.parametrize("name", ADMIN_ADD_PAGES)
def test_an_admin_add_page_answers_as_the_model_permission_says(name: str, world: World, db: None) -> None:
    model_admin = next(
        model_admin
        for model, model_admin in admin.site._registry.items()
        if name == f"admin:{model._meta.app_label}_{model._meta.model_name}_add"
    )
    url = reverse(name)
    wrong = {}
    for persona in PERSONAS:
        response = world.client(persona).get(url)
        user = world.users.get(persona)
        if user is None or not user.is_staff:
            wanted = 302
        else:
            request = RequestFactory().get(url)
            request.user = user
            wanted = 200 if model_admin.has_add_permission(request) else 403
        if response.status_code != wanted:
            wrong[persona] = f"{response.status_code}, not {wanted}"
        elif wanted == 302 and not response["Location"].startswith("/admin/login/"):
            wrong[persona] = f"sent to {response['Location']}, not to sign in"

    assert not wrong, f"{name}: {wrong}"
