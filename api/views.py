"""The API, version 1 (issue 21, item 1).

Public, for anyone without an account: the programme and its progress, the published initiatives
(searchable without diacritics, paginated by cursor), the public FAQ and the issued honours
decisions; answered from the cache for `API_CACHE_SECONDS` (a new programme or phase forgets it at
once: sangkien.public_pages).

For integration, with a unit's token (api.authentication): the initiatives of the unit's subtree as
its officers see them, with their authors and status history; never cached. A token that may write
also saves and submits initiatives as the site's form does (api.submissions), once per
`Idempotency-Key` (api.idempotency).

Every client address is rate limited (api.throttling)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import idempotency, leaderboards, submissions
from api.authentication import UnitTokenAuthentication
from api.errors import throttled_detail
from api.models import ApiToken, IdempotentRequest
from api.serializers import (
    AnswerSerializer,
    ErrorSerializer,
    HonourDecisionDetailSerializer,
    HonourDecisionSerializer,
    InitiativeSerializer,
    InitiativeWriteSerializer,
    LeaderboardSerializer,
    ProgrammeSerializer,
    SnapshotSerializer,
    SubmissionErrorSerializer,
    UnitInitiativeSerializer,
)
from api.throttling import ClientAddressThrottle
from honours import selectors as honours_selectors
from honours.models import HonourDecision
from initiatives.models import Field, Initiative, Program, StatusChange
from initiatives.selectors import current_program, program_progress, visible_initiatives
from questions.models import Question
from questions.selectors import public_faq
from sangkien.downloads import file_response
from sangkien.public_pages import MAX_QUERY_LENGTH, current_version
from sangkien.text import fold, parse_id
from unions.models import User

SEARCH_MAX_LENGTH = 200

# What any operation may answer besides its result.
REFUSED = {
    400: OpenApiResponse(ErrorSerializer, description="A request no client sends (a NUL character): refused."),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests from this address: retry later."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No programme is open, or no such item.")}
BAD_CURSOR = {404: OpenApiResponse(ErrorSerializer, description="The cursor is not one this list gave.")}


def _program() -> Program:
    program = current_program()
    if program is None:
        raise NotFound(gettext("No programme is open at the moment."))
    return program


def one_of[Row: Model](rows: QuerySet[Row], given: object) -> Row:
    """The row of `rows` whose id the address names; any text that is no id the database holds (a
    word, a negative or a 30-digit number) is simply not found."""
    pk = parse_id(str(given))
    found = rows.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound
    return found


# The query parameters the public operations read: a request naming any other is answered without
# keeping the answer, so odd URLs cannot fill the cache.
PUBLIC_PARAMETERS = frozenset({"q", "cursor", "page_size", "phase", "field", "cluster", "limit"})


def answer_key(request: HttpRequest) -> str | None:
    """Where a public operation's answer to this URL (host, path and query: the answers hold absolute
    links) is kept; None for an over-long query or one naming a parameter no operation reads
    (answered, never kept: odd URLs cannot fill the cache)."""
    query = request.META.get("QUERY_STRING", "")
    if len(query) > MAX_QUERY_LENGTH or set(request.GET) - PUBLIC_PARAMETERS:
        return None
    digest = hashlib.sha256(f"{request.get_host()}{request.path}?{query}".encode()).hexdigest()
    return f"api:{current_version()}:{digest}"


def kept[T](request: Request, compute: Callable[[], T]) -> T:
    """`compute()`'s answer, kept for API_CACHE_SECONDS (`answer_key`)."""
    key = answer_key(request._request)
    if key is None:
        return compute()
    answer = cache.get(key)
    if answer is None:
        answer = compute()
        cache.set(key, answer, settings.API_CACHE_SECONDS)
    return answer


def served_from_cache(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A public operation whose answer is kept is served from the cache before the framework's
    dispatch: one cache read and the rate limit (bench/README §12: the framework's dispatch cost a
    hit two thirds of the bare page's rate). Anything else goes to the view, which keeps its answer."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "GET" and "HTTP_AUTHORIZATION" not in request.META:
            key = answer_key(request)
            answer = cache.get(key) if key is not None else None
            if answer is not None:
                return refused_by_rate(request) or answer_response(answer)
        return view(request, *args, **kwargs)

    return wrapper


def answer_response(answer: bytes | tuple[bytes, str, str]) -> HttpResponse:
    """A kept answer: rendered JSON, or a file (its content, name and type)."""
    if isinstance(answer, bytes):
        return HttpResponse(answer, content_type="application/json")
    return file_response(answer[0], name=answer[1], content_type=answer[2])


def refused_by_rate(request: HttpRequest) -> HttpResponse | None:
    """The rate limit, as the framework applies it (api.throttling), for an answer served before it."""
    throttle = ClientAddressThrottle()
    if throttle.allow_request(Request(request), None):  # type: ignore[arg-type]  # no view: none is read
        return None
    seconds = math.ceil(throttle.wait() or 1)
    response = JsonResponse({"detail": throttled_detail(seconds)}, status=429)
    response["Retry-After"] = str(seconds)
    return response


class Rendered(Response):
    """A Response whose JSON was rendered before (and kept): nothing is rendered again."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    @property
    def rendered_content(self) -> Any:  # bytes, as Response renders them
        self["Content-Type"] = "application/json"
        return self.body


def cached(request: Request, compute: Callable[[], Any]) -> Response:
    """The JSON of `compute()`'s answer, rendered once and kept (`kept`): a hit is one cache read and
    no rendering."""
    return Rendered(kept(request, lambda: JSONRenderer().render(compute())))


class ProgrammeView(APIView):
    """The programme and its progress towards its target."""

    @extend_schema(responses={200: ProgrammeSerializer, **NOT_FOUND, **REFUSED}, operation_id="programme")
    def get(self, request: Request, **_: Any) -> Response:
        def compute() -> dict[str, Any]:
            program = _program()
            progress = program_progress(program=program)
            return dict(
                ProgrammeSerializer(
                    {
                        "name": program.name,
                        "slug": program.slug,
                        "description": program.description,
                        "target": program.target,
                        "starts_on": program.starts_on,
                        "ends_on": program.ends_on,
                        "submitted": progress.submitted,
                        "valid": progress.valid,
                        "percent": round(progress.percent, 2),
                        "phases": list(program.phases.all()),
                        "fields": list(Field.objects.filter(is_active=True).order_by("position", "name")),
                    }
                ).data
            )

        return cached(request, compute)


class NewestFirst(CursorPagination):
    """Pages by cursor, newest first (by id: stable however many are added meanwhile)."""

    ordering = "-id"
    invalid_cursor_message = cast(str, _("This cursor is not one this list gave."))  # translated when raised
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


SEARCH = OpenApiParameter(
    "q", str, description="Words of the title, without or with diacritics (“cai tien” finds “Cải tiến”)."
)


class InitiativeList(ListAPIView[Initiative]):
    """The programme's published initiatives: valid and not confidential."""

    serializer_class = InitiativeSerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[Initiative]:
        rows = (
            Initiative.objects.filter(program=_program(), status=Initiative.Status.VALID, is_confidential=False)
            .select_related("unit", "field")
            .only(
                "pk",
                "title",
                "kind",
                "summary",
                "effectiveness",
                "value_vnd",
                "first_applied_on",
                "submitted_at",
                "unit__code",
                "unit__name",
                "field__name",
            )
        )
        term = fold(self.request.query_params.get("q", "")[:SEARCH_MAX_LENGTH])
        return rows.filter(search_text__contains=term) if term else rows

    @extend_schema(
        parameters=[SEARCH],
        responses={200: InitiativeSerializer(many=True), **BAD_CURSOR, **REFUSED},
        operation_id="initiatives_list",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return cached(request, lambda: super(InitiativeList, self).get(request).data)


class InitiativeDetail(RetrieveAPIView[Initiative]):
    """One published initiative (a confidential or unpublished one does not exist here)."""

    serializer_class = InitiativeSerializer

    def get_queryset(self) -> QuerySet[Initiative]:
        return Initiative.objects.filter(
            program=_program(), status=Initiative.Status.VALID, is_confidential=False
        ).select_related("unit", "field")

    def get_object(self) -> Initiative:
        return one_of(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(responses={200: InitiativeSerializer, **NOT_FOUND, **REFUSED}, operation_id="initiatives_retrieve")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return cached(request, lambda: super(InitiativeDetail, self).get(request, **kwargs).data)


class AnswerList(ListAPIView[Question]):
    """The questions the board answered in public, the newest question first."""

    serializer_class = AnswerSerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[Question]:
        return public_faq(term=self.request.query_params.get("q", "")[:SEARCH_MAX_LENGTH]).order_by()

    @extend_schema(
        parameters=[SEARCH],
        responses={200: AnswerSerializer(many=True), **BAD_CURSOR, **REFUSED},
        operation_id="faq_list",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return cached(request, lambda: super(AnswerList, self).get(request).data)


class HonourDecisionList(ListAPIView[HonourDecision]):
    """The programme's issued honours decisions, the newest first (drafts are never published)."""

    serializer_class = HonourDecisionSerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[HonourDecision]:
        return honours_selectors.published(_program()).order_by()

    @extend_schema(
        responses={200: HonourDecisionSerializer(many=True), **BAD_CURSOR, **REFUSED}, operation_id="honours_list"
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return cached(request, lambda: super(HonourDecisionList, self).get(request).data)


class HonourDecisionDetail(RetrieveAPIView[HonourDecision]):
    """One issued decision and the units it honours (never those it left out, or below their target)."""

    serializer_class = HonourDecisionDetailSerializer

    def get_object(self) -> HonourDecision:
        found = one_of(honours_selectors.published(_program()), self.kwargs["pk"])
        found.honoured = list(honours_selectors.honoured_entries([found.pk]))  # type: ignore[attr-defined]
        return found

    @extend_schema(
        responses={200: HonourDecisionDetailSerializer, **NOT_FOUND, **REFUSED}, operation_id="honours_retrieve"
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return cached(request, lambda: super(HonourDecisionDetail, self).get(request, **kwargs).data)


class LeaderboardList(APIView):
    """The published snapshots: the latest and those kept as evidence, the latest first."""

    @extend_schema(responses={200: SnapshotSerializer(many=True), **NOT_FOUND, **REFUSED}, operation_id="leaderboards")
    def get(self, request: Request, **_: Any) -> Response:
        return cached(request, lambda: SnapshotSerializer(leaderboards.published(_program()), many=True).data)


FILTERS = [
    OpenApiParameter("phase", int, description="A phase of the programme (its id): its figures only."),
    OpenApiParameter("field", int, description="A field (its id): its initiatives only."),
    OpenApiParameter("cluster", int, description="An emulation cluster (its id): its units only."),
    OpenApiParameter("limit", int, description="How many units of each block (1 to 100; 10 by default)."),
]
NOT_READY = {
    503: OpenApiResponse(ErrorSerializer, description="The snapshot's figures are being prepared: retry shortly.")
}


def _leaderboard(request: Request, pk: str) -> tuple[Any, list[dict[str, Any]]]:
    """The snapshot and its blocks, or the refusal (400 for a filter that names nothing, 404 for a
    snapshot that is not published, 503 while its rows are rebuilt)."""
    program = _program()
    snapshot = leaderboards.published_snapshot(program, parse_id(pk))
    if snapshot is None:
        raise NotFound
    try:
        chosen = leaderboards.choose(program, request.query_params)
        return snapshot, leaderboards.blocks(program, snapshot, chosen)
    except leaderboards.BadFilter as error:
        raise ValidationError({"detail": str(error)}) from error
    except leaderboards.NotReady as error:
        raise NotReadyYet from error


class NotReadyYet(APIException):
    status_code = 503
    default_detail = _("The snapshot's figures are being prepared: retry in a few seconds.")
    default_code = "not_ready"


class LeaderboardDetail(APIView):
    """A published snapshot's ranking of each level block, as it counted and saw the units."""

    @extend_schema(
        parameters=FILTERS,
        responses={200: LeaderboardSerializer, **NOT_FOUND, **REFUSED, **NOT_READY},
        operation_id="leaderboard",
    )
    def get(self, request: Request, pk: str) -> Response:
        def compute() -> dict[str, Any]:
            snapshot, blocks = _leaderboard(request, pk)
            params = request.query_params
            return dict(
                LeaderboardSerializer(
                    {
                        "snapshot": snapshot,
                        "phase": parse_id(params.get("phase", "")),
                        "field": parse_id(params.get("field", "")),
                        "cluster": parse_id(params.get("cluster", "")),
                        "blocks": blocks,
                    }
                ).data
            )

        return cached(request, compute)


class LeaderboardCsv(APIView):
    """The same ranking as CSV (UTF-8 with a BOM, which Excel reads): one row per unit with its block."""

    @extend_schema(
        parameters=FILTERS,
        responses={(200, "text/csv"): OpenApiTypes.STR, **NOT_FOUND, **REFUSED, **NOT_READY},
        operation_id="leaderboard_csv",
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        return answer_response(kept(request, lambda: leaderboards.csv_file(*_leaderboard(request, pk))))


class LeaderboardXlsx(APIView):
    """The same ranking as an Excel workbook: one row per unit with its block."""

    @extend_schema(
        parameters=FILTERS,
        responses={(200, leaderboards.XLSX): OpenApiTypes.BINARY, **NOT_FOUND, **REFUSED, **NOT_READY},
        operation_id="leaderboard_xlsx",
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        return answer_response(kept(request, lambda: leaderboards.xlsx_file(*_leaderboard(request, pk))))


# ---------------------------------------------------------------------------------------------
# For integration: a unit's token (api.authentication), its unit's subtree as its officers see it.

UNAUTHORISED = {401: OpenApiResponse(ErrorSerializer, description="No token, or a revoked one.")}
STATUS = OpenApiParameter("status", str, enum=Initiative.Status.values, description="Only those of this status.")


def officer_rows(request: Request) -> QuerySet[Initiative]:
    """What the token's officer sees: initiatives.selectors.visible_initiatives, with everything the
    answer shows in a fixed number of queries."""
    history = Prefetch("status_changes", queryset=StatusChange.objects.order_by("at", "pk"))
    officer = cast(User, request.user)  # IsAuthenticated: a token's officer (api.authentication)
    return visible_initiatives(user=officer).select_related("unit", "field").prefetch_related("authors", history)


def unit_initiatives(request: Request) -> QuerySet[Initiative]:
    """`officer_rows`, of the status the query names if it names one."""
    rows = officer_rows(request)
    status = request.query_params.get("status", "")
    return rows.filter(status=status) if status in Initiative.Status.values else rows


IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=idempotency.PATTERN,
    description=(
        "A key of the client's own for this request (a UUID, say), the same for every retry of it: a retry "
        "of a request that succeeded gets its answer again and creates nothing. Kept for a day."
    ),
)
CREATED_HEADERS = [
    OpenApiParameter(
        "Location", str, OpenApiParameter.HEADER, response=[201], required=True, description="The initiative's address."
    ),
    OpenApiParameter(
        "Idempotent-Replayed",
        str,
        OpenApiParameter.HEADER,
        response=[201],
        enum=["true"],
        description="Present on the answer to a retry: the initiative was created by the first request.",
    ),
]
SUBMISSION_REFUSED = {
    400: OpenApiResponse(
        SubmissionErrorSerializer,
        description="Not saved: the form's errors, field by field; or the body is not JSON, or the "
        "Idempotency-Key is missing or not valid (`detail`). Nothing is kept: correct the request and send it "
        "again, with the same key.",
    ),
    403: OpenApiResponse(ErrorSerializer, description="The token may only read."),
    404: OpenApiResponse(ErrorSerializer, description="No programme is open."),
    409: OpenApiResponse(
        ErrorSerializer, description="A request with the same Idempotency-Key is still being processed: retry."
    ),
    415: OpenApiResponse(ErrorSerializer, description="The body is not sent as application/json."),
    422: OpenApiResponse(ErrorSerializer, description="This Idempotency-Key was used for a different request."),
    429: REFUSED[429],
}


class UnitInitiativeList(ListAPIView[Initiative]):
    """The initiatives of the token's unit and the units under it, newest first, drafts included;
    with a token that may write, a new one saved or submitted."""

    authentication_classes = [UnitTokenAuthentication]
    permission_classes = [IsAuthenticated]
    serializer_class = UnitInitiativeSerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[Initiative]:
        return unit_initiatives(self.request)

    @extend_schema(
        parameters=[STATUS],
        responses={200: UnitInitiativeSerializer(many=True), **UNAUTHORISED, **BAD_CURSOR, **REFUSED},
        operation_id="unit_initiatives_list",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY, *CREATED_HEADERS],
        request=InitiativeWriteSerializer,
        responses={
            201: OpenApiResponse(
                UnitInitiativeSerializer,
                description="Saved as a draft or submitted: the initiative as GET …/{id}/ shows it.",
            ),
            **UNAUTHORISED,
            **SUBMISSION_REFUSED,
        },
        operation_id="unit_initiatives_create",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new initiative of the token's unit or a unit under it, saved as a draft ("Lưu nháp") or
        submitted ("Gửi") with its authors, checked by the site's own form (the same rules and
        Vietnamese messages); once per Idempotency-Key."""
        token = cast(ApiToken, request.auth)  # IsAuthenticated: a unit's token
        if not token.may_write:
            raise PermissionDenied(
                gettext("This token may only read: the board over your unit issues tokens that may submit.")
            )
        key = idempotency.key_of(request)
        digest = idempotency.request_digest(request)
        if (done := idempotency.answered(token=token, key=key, digest=digest)) is not None:
            return replayed(request, done)
        officer = cast(User, request.user)
        assert token.account is not None  # a token that may write has one (ApiToken's constraint)
        try:
            checked = submissions.check(
                request.data, user=officer, initiative=Initiative(program=_program(), unit=token.unit)
            )
            with transaction.atomic():
                claimed = idempotency.claim(token=token, key=key, digest=digest)
                saved = submissions.write(checked, by=token.account, viewer=officer)
                shown = one_of(officer_rows(request), saved.pk)
                body = JSONRenderer().render(
                    UnitInitiativeSerializer(shown, context=self.get_serializer_context()).data
                )
                idempotency.record(claimed, status=201, response=body, initiative=saved)
        except submissions.Refused as refused:
            return Response(refused.errors, status=400)
        except idempotency.Taken:
            return replayed(request, idempotency.retried(token=token, key=key, digest=digest))
        return answer(request, body, status=201, initiative=saved.pk)


class UnitInitiativeDetail(RetrieveAPIView[Initiative]):
    """One initiative of the token's subtree, with its authors and status history."""

    authentication_classes = [UnitTokenAuthentication]
    permission_classes = [IsAuthenticated]
    serializer_class = UnitInitiativeSerializer

    def get_object(self) -> Initiative:
        return one_of(unit_initiatives(self.request), self.kwargs["pk"])

    @extend_schema(
        responses={200: UnitInitiativeSerializer, **UNAUTHORISED, **NOT_FOUND, **REFUSED},
        operation_id="unit_initiatives_retrieve",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def answer(request: Request, body: bytes, *, status: int, initiative: int | None) -> Response:
    """A write's answer, rendered once (and kept: a retry gets the same bytes), with its Location."""
    response = Rendered(body)
    response.status_code = status
    if initiative is not None:
        response["Location"] = request.build_absolute_uri(reverse("api:unit_initiative", args=[initiative]))
    return response


def replayed(request: Request, done: IdempotentRequest) -> Response:
    """The answer the first request with this key got, again."""
    assert done.status is not None  # a kept key holds the answer its transaction recorded
    response = answer(request, done.response.encode(), status=done.status, initiative=done.initiative_id)
    response["Idempotent-Replayed"] = "true"
    return response


@extend_schema(exclude=True)
@api_view(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def no_such_path(request: Request, *args: Any, **kwargs: Any) -> Response:
    """Any other address under /api/: a JSON 404 (never the site's HTML page)."""
    raise NotFound
