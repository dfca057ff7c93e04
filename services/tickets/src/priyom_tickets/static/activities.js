/* The agent's own activities in the console (loaded after console.js, whose helpers it uses; before live.js).
 *
 * "My activities" lists what the agent must do, soonest first, each linked to its ticket; an activity past its
 * time is marked overdue, here and on its ticket's page, and the mark follows the clock without asking the
 * server. The reminders come over /ws/live (activity_reminders.py): a while before an activity is due and when
 * it falls overdue, a desktop notification and a fresh list. */
"use strict";

const ACTIVITIES_SHOWN = 50;
const OVERDUE_CHECK_MS = 30000;
const mine = { items: [], timer: null };

function overdue(activity) {
  return !activity.done_at && Date.parse(activity.due_at) <= Date.now();
}

function drawMyActivities() {
  const late = mine.items.filter(overdue).length;
  $("my-activities").hidden = mine.items.length === 0;
  $("my-activities-title").textContent = late ? t("activities.mine_overdue", { count: late }) : t("activities.mine");
  $("my-activity-list").replaceChildren(...mine.items.map((a) => {
    const item = el("li", { className: overdue(a) ? "overdue" : "", dataset: { id: a.id } },
                    el("a", { href: `#/ticket/${a.number}` }, a.number), ` ${when(a.due_at)} · ${a.title}`);
    if (overdue(a)) item.append(" · ", el("strong", {}, t("activities.overdue")));
    return item;
  }));
}

async function loadMyActivities() {
  if (!state.token) return;
  try {
    mine.items = await api(`/api/v1/activities?done=false&limit=${ACTIVITIES_SHOWN}`);
  } catch { return; }
  drawMyActivities();
  if (!mine.timer) mine.timer = setInterval(drawMyActivities, OVERDUE_CHECK_MS);
}

/** A reminder from the live feed: tell the agent, and show the list as it is now. */
function onActivityReminder(reminder) {
  const title = t(reminder.overdue ? "activities.reminder_overdue" : "activities.reminder_soon",
                  { number: reminder.number });
  notifyDesktop(title, `${reminder.title} · ${when(reminder.due_at)}`, `activity-${reminder.id}-${reminder.overdue}`);
  loadMyActivities();
}
