"""factory_boy factories; units get their path through the same service the admin uses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from initiatives.models import Author, Field, Initiative, Phase, Program, StatusChange, Target
from sangkien.text import fold
from unions.models import EmulationCluster, Union, User
from unions.services import union_create


class EmulationClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmulationCluster
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Cụm thi đua {n}")


def confederation() -> Union:
    """The root every unit rolls up into (only the Confederation may have no parent)."""
    return Union.objects.filter(code="TLD").first() or union_create(
        code="TLD", name="Tổng Liên đoàn Lao động Việt Nam", level=Union.Level.CONFEDERATION
    )


class UnionFactory(factory.Factory):
    """Builds units through unions.services.union_create, so path and depth are real."""

    class Meta:
        model = Union

    code = factory.Sequence(lambda n: f"U{n:05d}")
    name = factory.Sequence(lambda n: f"Công đoàn đơn vị {n}")
    level = Union.Level.GRASSROOTS
    parent = factory.LazyFunction(confederation)
    member_count = 100

    @classmethod
    def _create(cls, model_class: type[Union], **kwargs: object) -> Union:
        return union_create(**kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Văn A"
    last_name = "Nguyễn"
    password = factory.django.Password("mat-khau-thu-nghiem")


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program
        django_get_or_create = ("slug",)

    name = "01 triệu sáng kiến"
    slug = factory.Sequence(lambda n: f"chuong-trinh-{n}")
    target = 1_000_000
    starts_on = dt.date(2022, 1, 8)
    ends_on = dt.date(2023, 9, 1)


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase

    program = factory.SubFactory(ProgramFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda phase: f"Giai đoạn {phase.number}")
    starts_on = dt.date(2022, 1, 8)
    ends_on = dt.date(2022, 5, 31)


class FieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Field
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Lĩnh vực {n}")


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    program = factory.SubFactory(ProgramFactory)
    unit = factory.SubFactory(UnionFactory)
    quantity = 100


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative

    program = factory.SubFactory(ProgramFactory)
    unit = factory.SubFactory(UnionFactory)
    title = factory.Sequence(lambda n: f"Cải tiến dây chuyền số {n}")
    field = factory.SubFactory(FieldFactory)
    kind = Initiative.Kind.TECHNICAL
    status = Initiative.Status.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)
    search_text = factory.LazyAttribute(lambda initiative: fold(initiative.title))


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    initiative = factory.SubFactory(InitiativeFactory)
    full_name = "Nguyễn Văn An"
    share_percent = Decimal(100)


class StatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusChange

    initiative = factory.SubFactory(InitiativeFactory)
    from_status = Initiative.Status.DRAFT
    to_status = Initiative.Status.SUBMITTED
    at = factory.LazyFunction(timezone.now)
