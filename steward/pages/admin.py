"""Admin: users and roles, sessions, single sign-on group mappings, environments, notification channels,
sign-off policies, the permission matrix."""

import pandas as pd
import streamlit as st

from steward.app.ui.api_keys import render_api_keys
from steward.app.ui.channels import render_channel_form, render_channel_table, render_delivery_log
from steward.app.ui.guard import attempt, require
from steward.app.ui.policies import render_policy_editor
from steward.app.ui.text import plain, when
from steward.core.domain.permissions import Action, matrix
from steward.core.domain.roles import Role

page = require(Action.VIEW_ADMIN)
steward, actor = page.steward, page.actor
ROLE_NAMES = [role.value for role in Role]

st.title("Admin")
users_tab, sessions_tab, sso_tab, env_tab, channels_tab, policy_tab, matrix_tab = st.tabs(
    [
        "Users",
        "Sessions",
        "Single sign-on",
        "Environments",
        "Notification channels",
        "Sign-off policies",
        "Permissions",
    ]
)


with users_tab:
    users = steward.users.list(actor)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "User": plain(u.username),
                    "Name": plain(u.display_name),
                    "Roles": ", ".join(sorted(r.value for r in u.roles)),
                    "Active": u.active,
                    "Sign-in": u.auth_source,
                    "Since": when(u.created_at),
                }
                for u in users
            ]
        ),
        hide_index=True,
    )
    st.subheader("Add a user")
    with st.form("add_user", clear_on_submit=True):
        c1, c2 = st.columns(2)
        new_name = c1.text_input("User name", help="2-64 characters: a-z, 0-9 and . _ @ -")
        new_display = c2.text_input("Display name")
        new_roles = st.multiselect("Roles", ROLE_NAMES)
        new_password = st.text_input("Initial password (12+ characters)", type="password")
        if st.form_submit_button("Add user", type="primary"):
            attempt(
                lambda: steward.users.create(
                    actor, new_name, roles=new_roles, password=new_password, display_name=new_display
                ),
                f"Added {new_name.strip().lower()}",
            )

    st.subheader("Change a user")
    names = [u.username for u in users]
    if names:
        chosen = st.selectbox("User", names, key="admin_user")
        user = next(u for u in users if u.username == chosen)
        roles = st.multiselect(
            "Roles", ROLE_NAMES, default=sorted(r.value for r in user.roles), key=f"roles_{chosen}"
        )
        c1, c2, _ = st.columns([1, 1, 2])
        if c1.button("Save roles", key="save_roles"):
            attempt(
                lambda: steward.users.set_roles(actor, chosen, roles, expected_version=user.version),
                f"Roles of {chosen} saved",
            )
        if user.active and c2.button("Deactivate", key="deactivate"):
            attempt(
                lambda: steward.users.set_active(actor, chosen, False, expected_version=user.version),
                f"{chosen} deactivated; their sessions ended",
            )
        if not user.active and c2.button("Reactivate", key="reactivate"):
            attempt(
                lambda: steward.users.set_active(actor, chosen, True, expected_version=user.version),
                f"{chosen} reactivated",
            )

with sessions_tab:
    sessions = steward.auth.list_sessions(actor)
    if not sessions:
        st.info("No open sessions.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "User": plain(s.username),
                        "Method": s.method,
                        "From": plain(s.source),
                        "Started": when(s.created_at),
                        "Last seen": when(s.last_seen_at),
                        "Ends at the latest": when(s.expires_at),
                        "Id": s.id,
                    }
                    for s in sessions
                ]
            ),
            hide_index=True,
        )
        to_end = st.selectbox(
            "End a session",
            [s.id for s in sessions],
            format_func=lambda sid: next(f"{s.username} - {s.id[:8]}" for s in sessions if s.id == sid),
        )
        if st.button("End session", key="end_session"):
            attempt(lambda: steward.auth.revoke(actor, to_end), "Session ended")

with sso_tab:
    st.caption(
        "Members of an identity-provider group get the roles mapped to it. "
        "A user whose groups map to no role sees 'no access yet'."
    )
    mappings = steward.group_mappings.list(actor)
    if mappings:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "#": m.id,
                        "Group": plain(m.group_name),
                        "Role": m.role.value,
                        "By": plain(m.created_by),
                        "Since": when(m.created_at),
                    }
                    for m in mappings
                ]
            ),
            hide_index=True,
        )
    else:
        st.info("No group mappings yet.")
    with st.form("add_mapping", clear_on_submit=True):
        c1, c2 = st.columns(2)
        group = c1.text_input("Group (as the identity provider names it)")
        role = c2.selectbox("Role", ROLE_NAMES)
        if st.form_submit_button("Map group"):
            attempt(
                lambda: steward.group_mappings.add(actor, group, role), f"Mapped {group.strip()} to {role}"
            )
    if mappings:
        remove = st.selectbox(
            "Remove mapping",
            [m.id for m in mappings],
            format_func=lambda i: next(
                f"#{m.id} {m.group_name} -> {m.role.value}" for m in mappings if m.id == i
            ),
        )
        if st.button("Remove", key="remove_mapping"):
            attempt(lambda: steward.group_mappings.remove(actor, remove), "Mapping removed")

with env_tab:
    environments = steward.environments.list()
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Order": e.position,
                    "Environment": plain(e.name),
                    "Tier": e.tier.value,
                    "Purpose": plain(e.description),
                }
                for e in environments
            ]
        ),
        hide_index=True,
    )
    with st.form("add_env", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        env_name = c1.text_input("New environment")
        env_tier = c2.selectbox("Tier", ["dev", "test", "prod"], index=1)
        env_after = c3.selectbox("After", [e.name for e in environments])
        if st.form_submit_button("Add environment"):
            attempt(
                lambda: steward.environments.add(actor, env_name, env_tier, after=env_after),
                f"Environment {env_name.strip()} added",
            )
    st.caption(
        "Renaming keeps everything attached to the environment: what serves there, its sign-off policy, "
        "requests, the ledger and monitors. Who may act there follows its tier, which stays the same."
    )
    with st.form("rename_env", clear_on_submit=True):
        c1, c2 = st.columns(2)
        rename_from = c1.selectbox("Environment", [e.name for e in environments], key="rename_env_from")
        rename_to = c2.text_input("New name", key="rename_env_to")
        if st.form_submit_button("Rename environment"):
            attempt(
                lambda: steward.environments.rename(actor, rename_from, rename_to),
                f"Environment {rename_from} renamed to {rename_to.strip()}",
            )

with channels_tab:
    st.caption(
        "Where incidents and sign-off requests are announced: signed webhooks and e-mail, by severity and "
        "pipeline. Addresses on loopback, link-local or private networks are refused unless allowed here."
    )
    render_channel_table(steward)
    render_channel_form(steward, actor)
    st.markdown("**Delivery log**")
    render_delivery_log(steward)

with policy_tab:
    render_policy_editor(steward, actor)

with matrix_tab:
    st.caption("Who may do what, where. This table is the one the services enforce.")
    all_roles: list[Role] = [*Role]
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Action": row.action.label,
                    "Environment": row.tier.value if row.tier else "any",
                    **{role.label: ("✔" if role in row.roles else "") for role in all_roles},
                }
                for row in matrix()
            ]
        ),
        hide_index=True,
        height=600,
    )

render_api_keys(steward, actor)  # h5: scoring API keys
