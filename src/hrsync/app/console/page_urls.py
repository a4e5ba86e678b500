"""Console pages: dashboard, sources, tickets, people, triggers, channels, integrations, audit
log, API tokens."""

from django.urls import URLPattern, URLResolver, path

from hrsync.app.console import (
    audit,
    channels,
    dashboard,
    integrations,
    manual_people,
    people,
    rules,
    source_uploads,
    sources,
    tickets,
    tokens,
)
from hrsync.app.console.responses import by_method

urlpatterns: list[URLPattern | URLResolver] = [
    path("", dashboard.dashboard, name="dashboard"),
    # Sources
    path("sources/", sources.source_list, name="sources"),
    path("sources/new/", sources.source_new, name="source-new"),
    path("sources/check/", sources.source_check, name="source-check"),
    path("sources/companies/", sources.source_companies, name="source-companies"),
    path(
        "sources/<slug:key>/",
        by_method(get=sources.source_detail, post=sources.source_update),
        name="source",
    ),
    path("sources/<slug:key>/import/", sources.source_import, name="source-import"),
    path("sources/<slug:key>/delete/", sources.source_delete, name="source-delete"),
    path("sources/<slug:key>/uploads/", source_uploads.upload_file, name="source-upload"),
    path(
        "sources/<slug:key>/uploads/<int:upload_id>/",
        source_uploads.upload_preview,
        name="source-upload-preview",
    ),
    path(
        "sources/<slug:key>/uploads/<int:upload_id>/confirm/",
        source_uploads.upload_confirm,
        name="source-upload-confirm",
    ),
    # Tickets
    path("tickets/", tickets.ticket_list, name="tickets"),
    path("tickets/<int:pk>/", tickets.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/comment/", tickets.ticket_comment, name="ticket-comment"),
    path("tickets/<int:pk>/close/", tickets.ticket_close, name="ticket-close"),
    path("tickets/<int:pk>/assign/", tickets.ticket_assign, name="ticket-assign"),
    path("tickets/<int:pk>/priority/", tickets.ticket_priority, name="ticket-priority"),
    # People
    path("people/", people.person_list, name="people"),
    path("people/new/", manual_people.person_new, name="person-new"),
    path("people/<int:pk>/edit/", manual_people.person_edit, name="person-edit"),
    path("people/<int:pk>/end/", manual_people.person_end, name="person-end"),
    path("people/<int:pk>/", people.person_detail, name="person"),
    path("people/<int:pk>/provision/", people.person_provision, name="person-provision"),
    # Triggers
    path("triggers/", rules.trigger_list, name="triggers"),
    path("triggers/new/", rules.trigger_new, name="trigger-new"),
    path("triggers/rows/<str:kind>/", rules.trigger_row, name="trigger-row"),
    path(
        "triggers/<slug:name>/",
        by_method(get=rules.trigger_detail, post=rules.trigger_update),
        name="trigger",
    ),
    path("triggers/<slug:name>/delete/", rules.trigger_delete, name="trigger-delete"),
    # Channels
    path("channels/", channels.channel_list, name="channels"),
    path("channels/new/", channels.channel_new, name="channel-new"),
    path(
        "channels/<slug:name>/",
        by_method(get=channels.channel_detail, post=channels.channel_update),
        name="channel",
    ),
    path("channels/<slug:name>/test/", channels.channel_test, name="channel-test"),
    path("channels/<slug:name>/reset/", channels.channel_reset, name="channel-reset"),
    path("channels/<slug:name>/delete/", channels.channel_delete, name="channel-delete"),
    # Integrations (Oneflow contracts)
    path("integrations/", integrations.integration_list, name="integrations"),
    path("integrations/<slug:key>/", integrations.integration_detail, name="integration"),
    path(
        "integrations/<slug:key>/check/", integrations.integration_check, name="integration-check"
    ),
    path(
        "integrations/<slug:key>/contracts/<int:contract_id>/",
        integrations.contract_detail,
        name="contract",
    ),
    path(
        "integrations/<slug:key>/contracts/<int:contract_id>/steps/<int:step_id>/retry/",
        integrations.step_retry,
        name="contract-step-retry",
    ),
    # Audit log
    path("audit/", audit.audit_log, name="audit"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
    # API tokens
    path("tokens/", by_method(get=tokens.token_list, post=tokens.token_create), name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
]
