"""Organisations and services that work with children. Not child data: stored in clear."""

from __future__ import annotations

from django.db import models


class CouncilArea(models.Model):
    code = models.CharField(max_length=9, unique=True)  # ONS code, e.g. E09000007
    name = models.CharField(max_length=120)

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    class Kind(models.TextChoices):
        SCHOOL = "school", "School"
        GP_PRACTICE = "gp_practice", "GP practice"
        COUNCIL_TEAM = "council_team", "Council children's services team"
        NHS_TRUST = "nhs_trust", "NHS trust"
        POLICE_CPU = "police_cpu", "Police child protection unit"
        YOUTH_OFFENDING_TEAM = "youth_offending_team", "Youth offending team"
        VOLUNTARY_ORG = "voluntary_org", "Voluntary organisation"

    code = models.CharField(max_length=20, unique=True)  # URN, ODS code or our own
    kind = models.CharField(max_length=24, choices=Kind.choices)
    name = models.CharField(max_length=200)
    council_area = models.ForeignKey(CouncilArea, on_delete=models.PROTECT, null=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return self.name
