/**
 * The closing words of each path through the six exercises added for issue 12. The exercise format's own fields for
 * endings (`closing`, `endings`, a transition's `ending`) come with issue 11 on another branch; until they meet, the
 * words live here as data beside each definition, naming the choice that leads to each ending, and
 * tests/unit/catalogue.test.ts checks that every named choice really ends its exercise.
 */
export interface PathEndings {
  /** The words when the exercise runs its whole course. */
  closing: string;
  /** Other ways it can end, each reached by the listed step options ("step-id:option-id"). */
  endings?: { id: string; title: string; words: string; reachedBy: string[] }[];
}
