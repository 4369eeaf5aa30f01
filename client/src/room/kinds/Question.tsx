/** The question a step drew from its deck, set apart so it reads as the thing to answer. */
import "./kinds.css";
import type { StepView } from "../../../../shared/protocol.ts";

export function QuestionCard({ question }: { question: StepView["question"] }) {
  if (!question) return null;
  return (
    <section class="question-card" aria-label="The question" data-testid="question">
      <p class="question-meta">
        {question.deckTitle ? `${question.deckTitle} · question ${question.number}` : `Question ${question.number}`}
      </p>
      <p class="question-text">{question.text}</p>
    </section>
  );
}
